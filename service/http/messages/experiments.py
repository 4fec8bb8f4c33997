"""Request messages of ``/api/2.0/mlflow/experiments/*``."""

from __future__ import annotations

from typing import Literal

from service.http.parsing import (
    ExperimentId,
    Int64,
    KeyValueMessage,
    Message,
    Repeated,
    Text,
)


class CreateExperiment(Message):
    name: Text
    artifact_location: Text | None = None
    tags: list[KeyValueMessage] = []


class ExperimentRef(Message):
    experiment_id: ExperimentId


class GetByName(Message):
    experiment_name: Text


class SearchExperiments(Message):
    max_results: Int64 | None = None
    page_token: Text | None = None
    filter: Text | None = None
    order_by: Repeated[Text] = []
    view_type: Literal["ACTIVE_ONLY", "DELETED_ONLY", "ALL"] = "ACTIVE_ONLY"


class UpdateExperiment(Message):
    experiment_id: ExperimentId
    new_name: Text | None = None


class ExperimentTag(Message):
    experiment_id: ExperimentId
    key: Text
    value: Text = ""


class DeleteExperimentTag(Message):
    experiment_id: ExperimentId
    key: Text


class SearchDatasets(Message):
    experiment_ids: Repeated[ExperimentId] = []
