"""Request messages of ``/api/2.0/mlflow/runs/*`` and ``metrics/get-history``."""

from __future__ import annotations

from typing import ClassVar, Literal

import orjson
from pydantic import model_validator

from service.errors import InvalidParameterValue
from service.http.parsing import (
    Double,
    ExperimentId,
    Int64,
    KeyValueMessage,
    Message,
    Repeated,
    Text,
    missing_value,
)
from service.store.entities.tracking import Dataset, DatasetInput, LoggedPoint, MetricPoint

RunStatusName = Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]
ViewTypeName = Literal["ACTIVE_ONLY", "DELETED_ONLY", "ALL"]


class RunMessage(Message):
    """Requests naming a run: ``run_id``, or the legacy ``run_uuid`` the client also sends."""

    run_id: Text | None = None
    run_uuid: Text | None = None

    @model_validator(mode="after")
    def _require_run_id(self) -> RunMessage:
        if not (self.run_id or self.run_uuid):
            raise InvalidParameterValue(missing_value("run_id"))
        return self

    @property
    def run(self) -> str:
        return self.run_id or self.run_uuid or ""


class CreateRun(Message):
    experiment_id: ExperimentId = 0
    user_id: Text = ""
    run_name: Text | None = None
    start_time: Int64 | None = None
    tags: list[KeyValueMessage] = []


class UpdateRun(RunMessage):
    status: RunStatusName | None = None
    end_time: Int64 | None = None
    run_name: Text | None = None


class SetTag(RunMessage):
    key: Text
    value: Text = ""


class DeleteTag(RunMessage):
    key: Text


class LogParam(RunMessage):
    key: Text
    value: Text


class MetricMessage(Message):
    key: Text
    value: Double
    timestamp: Int64
    step: Int64 = 0
    model_id: Text | None = None
    dataset_name: Text | None = None
    dataset_digest: Text | None = None

    def logged(self) -> LoggedPoint:
        return (
            self.key,
            self.value,
            self.timestamp,
            self.step,
            self.model_id or None,
            self.dataset_name or None,
            self.dataset_digest or None,
        )

    def point(self) -> MetricPoint:
        return MetricPoint(*self.logged())


class LogMetric(RunMessage, MetricMessage):
    pass


class LogBatch(RunMessage):
    metrics: list[MetricMessage] = []
    params: list[KeyValueMessage] = []
    tags: list[KeyValueMessage] = []


class DatasetMessage(Message):
    name: Text
    digest: Text
    source_type: Text = ""
    source: Text = ""
    schema_: Text | None = None
    profile: Text | None = None

    model_config = {"populate_by_name": True}

    @model_validator(mode="before")
    @classmethod
    def _schema_alias(cls, data: object) -> object:
        if isinstance(data, dict) and "schema" in data:
            data = {**data, "schema_": data["schema"]}
        return data


class DatasetInputMessage(Message):
    tags: list[KeyValueMessage] = []
    dataset: DatasetMessage

    def entity(self) -> DatasetInput:
        d = self.dataset
        dataset = Dataset(
            name=d.name,
            digest=d.digest,
            source_type=d.source_type,
            source=d.source,
            schema=d.schema_,
            profile=d.profile,
        )
        return DatasetInput(dataset, [kv.entity() for kv in self.tags])


class ModelRef(Message):
    model_id: Text
    step: Int64 = 0


class LogInputs(RunMessage):
    datasets: list[DatasetInputMessage] = []
    models: list[ModelRef] = []


class LogOutputs(RunMessage):
    models: list[ModelRef] = []


class LogModel(RunMessage):
    model_json: Text | None = None

    #: What MLflow requires of the model, and what it keeps in the run's history tag.
    REQUIRED: ClassVar = frozenset({"artifact_path", "flavors", "utc_time_created", "run_id"})
    KEPT: ClassVar = ("run_id", "utc_time_created", "artifact_path", "model_uuid")

    def summary(self) -> dict[str, object]:
        """The model's entry in the history, as MLflow's ``Model.get_tags_dict`` makes it."""
        if not self.model_json:
            raise InvalidParameterValue(missing_value("model_json"))
        try:
            model = orjson.loads(self.model_json)
        except orjson.JSONDecodeError:
            model = None
        if not isinstance(model, dict):
            raise InvalidParameterValue(
                f"Malformed model info. \n {self.model_json} \n is not a valid JSON."
            )
        if missing := self.REQUIRED - model.keys():
            raise InvalidParameterValue(f"Model json is missing mandatory fields: {missing}")
        summary = {k: model[k] for k in self.KEPT if k in model}
        flavors = model["flavors"] if isinstance(model["flavors"], dict) else {}
        summary["flavors"] = {
            name: {k: v for k, v in conf.items() if k != "config"}
            if isinstance(conf, dict)
            else conf
            for name, conf in flavors.items()
        }
        return summary


class SearchRuns(Message):
    experiment_ids: Repeated[ExperimentId] = []
    filter: Text | None = None
    run_view_type: ViewTypeName = "ACTIVE_ONLY"
    max_results: Int64 | None = None
    order_by: Repeated[Text] = []
    page_token: Text | None = None


class GetMetricHistory(RunMessage):
    metric_key: Text
    max_results: Int64 | None = None
    page_token: Text | None = None
