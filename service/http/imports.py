"""``/api/2.0/stratus/import/*``: the server side of ``stratus import --to URL``.

The MLflow API mints run ids and stamps "now"; these endpoints write records exactly as
a source holds them (ids, timestamps, statuses, users), through
:mod:`service.store.imports`. They are for administrators moving history in, and every
one is idempotent, so a resumed import repeats requests safely.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.http.context import blocking, store
from service.http.messages.runs import DatasetInputMessage, MetricMessage, ModelRef, RunStatusName
from service.http.parsing import Int64, KeyValueMessage, Message, Text, parse_json
from service.http.responses import ok
from service.store.entities.registry import ModelVersion
from service.store.entities.tracking import MetricPoint, ModelOutput
from service.store.imports import (
    ExperimentImport,
    ImportStore,
    LoggedModelImport,
    RegisteredModelImport,
    Result,
    RunImport,
)
from service.store.validation import validate_batch_sizes, validate_metrics

Stage = Literal["active", "deleted"]
R = TypeVar("R")


class ExperimentMessage(Message):
    name: Text
    lifecycle_stage: Stage = "active"
    creation_time: Int64 = 0
    last_update_time: Int64 = 0
    tags: list[KeyValueMessage] = []


class PlaceExperiment(Message):
    experiment: ExperimentMessage
    wanted_id: Int64 | None = None
    exact: bool = False
    dry_run: bool = False


class RunMessage(Message):
    run_id: Text
    name: Text = ""
    user_id: Text = ""
    status: RunStatusName = "RUNNING"
    start_time: Int64 = 0
    end_time: Int64 | None = None
    lifecycle_stage: Stage = "active"
    deleted_time: Int64 | None = None
    params: list[KeyValueMessage] = []
    tags: list[KeyValueMessage] = []
    dataset_inputs: list[DatasetInputMessage] = []
    model_inputs: list[Text] = []
    model_outputs: list[ModelRef] = []


class ImportRun(Message):
    experiment_id: Int64
    run: RunMessage


class PointMessage(MetricMessage):
    """A metric point as logged, plus the run it belongs to (for logged models' metrics)."""

    run_id: Text | None = None

    def point(self) -> MetricPoint:
        return replace(super().point(), run_id=self.run_id or None)


class ImportMetrics(Message):
    run_id: Text
    metrics: list[PointMessage] = []


class LoggedModelMessage(Message):
    model_id: Text
    name: Text
    creation_timestamp_ms: Int64 = 0
    last_updated_timestamp_ms: Int64 = 0
    status: Text = "LOGGED_MODEL_READY"
    lifecycle_stage: Stage = "active"
    status_message: Text | None = None
    model_type: Text = ""
    source_run_id: Text | None = None
    tags: list[KeyValueMessage] = []
    params: list[KeyValueMessage] = []


class ImportLoggedModel(Message):
    experiment_id: Int64
    model: LoggedModelMessage


class ImportModelMetrics(Message):
    model_id: Text
    metrics: list[PointMessage] = []


class RegisteredModelMessage(Message):
    name: Text
    creation_time: Int64 = 0
    last_updated_time: Int64 = 0
    description: Text | None = None
    last_version: Int64 = 0
    tags: list[KeyValueMessage] = []


class ModelVersionMessage(Message):
    name: Text
    version: Int64
    creation_time: Int64 = 0
    last_updated_time: Int64 = 0
    current_stage: Text = "None"
    source: Text
    status: Text = "READY"
    description: Text | None = None
    user_id: Text | None = None
    run_id: Text | None = None
    run_link: Text | None = None
    status_message: Text | None = None
    storage_location: Text | None = None
    model_id: Text | None = None
    tags: list[KeyValueMessage] = []


class ImportAlias(Message):
    name: Text
    alias: Text
    version: Int64


def _imports(request: Request) -> ImportStore:
    return ImportStore(store(request).db)


def _record(kind: type[R], msg: Message, **converted: Any) -> R:
    """A store record from a message with the same field names; ``converted`` holds the
    fields that need more than a copy (key/value lists, nested entities)."""
    return kind(**msg.model_dump(exclude=set(converted)), **converted)


def _points(items: list[PointMessage]) -> list[MetricPoint]:
    points = [item.point() for item in items]
    validate_batch_sizes(len(points), 0, 0)
    validate_metrics(points)
    return points


def _result(result: Result, **extra: object) -> Response:
    return ok({"outcome": result.outcome.value, "notes": result.notes, **extra})


async def place_experiment(request: Request) -> Response:
    msg = await parse_json(request, PlaceExperiment)
    exp = msg.experiment
    placement = await blocking(
        _imports(request).place_experiment,
        _record(ExperimentImport, exp, tags=[kv.entity() for kv in exp.tags]),
        msg.wanted_id,
        exact=msg.exact,
        dry_run=msg.dry_run,
    )
    experiment_id = placement.experiment_id
    return ok(
        {
            "experiment_id": None if experiment_id is None else str(experiment_id),
            "outcome": placement.outcome.value,
            "note": placement.note,
        }
    )


async def import_run(request: Request) -> Response:
    msg = await parse_json(request, ImportRun)
    run = msg.run
    record = _record(
        RunImport,
        run,
        params=[kv.entity() for kv in run.params],
        tags=[kv.entity() for kv in run.tags],
        dataset_inputs=[d.entity() for d in run.dataset_inputs],
        model_outputs=[ModelOutput(m.model_id, m.step) for m in run.model_outputs],
    )
    placed = await blocking(_imports(request).import_run, msg.experiment_id, record)
    return _result(placed.result, artifact_uri=placed.artifact_uri)


async def import_metrics(request: Request) -> Response:
    msg = await parse_json(request, ImportMetrics)
    await blocking(_imports(request).import_metrics, msg.run_id, _points(msg.metrics))
    return ok()


async def import_logged_model(request: Request) -> Response:
    msg = await parse_json(request, ImportLoggedModel)
    model = msg.model
    record = _record(
        LoggedModelImport,
        model,
        tags=[kv.entity() for kv in model.tags],
        params=[kv.entity() for kv in model.params],
    )
    placed = await blocking(_imports(request).import_logged_model, msg.experiment_id, record)
    return _result(placed.result, artifact_location=placed.artifact_location)


async def import_model_metrics(request: Request) -> Response:
    msg = await parse_json(request, ImportModelMetrics)
    missing = await blocking(
        _imports(request).import_model_metrics, msg.model_id, _points(msg.metrics)
    )
    return ok({"missing": missing})


async def import_registered_model(request: Request) -> Response:
    msg = await parse_json(request, RegisteredModelMessage)
    record = _record(RegisteredModelImport, msg, tags=[kv.entity() for kv in msg.tags])
    return _result(await blocking(_imports(request).import_registered_model, record))


async def import_model_version(request: Request) -> Response:
    msg = await parse_json(request, ModelVersionMessage)
    record = _record(ModelVersion, msg, tags=[kv.entity() for kv in msg.tags])
    return _result(await blocking(_imports(request).import_model_version, record))


async def import_alias(request: Request) -> Response:
    msg = await parse_json(request, ImportAlias)
    result = await blocking(_imports(request).import_alias, msg.name, msg.alias, msg.version)
    return _result(result)


routes = [
    Route("/experiments", place_experiment, methods=["POST"]),
    Route("/runs", import_run, methods=["POST"]),
    Route("/metrics", import_metrics, methods=["POST"]),
    Route("/logged-models", import_logged_model, methods=["POST"]),
    Route("/logged-model-metrics", import_model_metrics, methods=["POST"]),
    Route("/registered-models", import_registered_model, methods=["POST"]),
    Route("/model-versions", import_model_version, methods=["POST"]),
    Route("/aliases", import_alias, methods=["POST"]),
]
