"""Request messages of ``/api/2.0/mlflow/logged-models*``."""

from __future__ import annotations

from typing import Any

from service.http.parsing import (
    ExperimentId,
    Int64,
    KeyValueMessage,
    Message,
    Repeated,
    Text,
)


class CreateLoggedModel(Message):
    experiment_id: ExperimentId
    name: Text | None = None
    model_type: Text | None = None
    source_run_id: Text | None = None
    params: list[KeyValueMessage] = []
    tags: list[KeyValueMessage] = []


class FinalizeLoggedModel(Message):
    status: Text


class LoggedModelTags(Message):
    tags: list[KeyValueMessage] = []


class LoggedModelParams(Message):
    params: list[KeyValueMessage] = []


class DatasetFilterMessage(Message):
    dataset_name: Text
    dataset_digest: Text | None = None


class SearchLoggedModels(Message):
    experiment_ids: Repeated[ExperimentId] = []
    filter: Text | None = None
    datasets: list[DatasetFilterMessage] = []
    max_results: Int64 | None = None
    order_by: list[dict[str, Any]] = []
    page_token: Text | None = None
