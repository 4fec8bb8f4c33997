"""The tracking records (experiments, runs, metrics, logged models) as proto3 JSON.

Conventions the mlflow client depends on: ids of integer tables are strings, int64
values are numbers, enums are upper-case names, NaN is ``"NaN"``, and empty or unset
fields are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.http.wire.proto3 import compact, double, key_values
from service.store.entities.tracking import (
    DatasetInput,
    Experiment,
    LoggedModel,
    MetricPoint,
    Run,
    RunInfo,
)
from service.store.metrics import HistoryRow


def experiment(exp: Experiment) -> dict[str, Any]:
    return compact(
        {
            "experiment_id": str(exp.experiment_id),
            "name": exp.name,
            "artifact_location": exp.artifact_location,
            "lifecycle_stage": exp.lifecycle_stage,
            "last_update_time": exp.last_update_time,
            "creation_time": exp.creation_time,
            "tags": key_values(exp.tags),
        }
    )


def metric(point: MetricPoint) -> dict[str, Any]:
    return compact(
        {
            "key": point.key,
            "value": double(point.value),
            "timestamp": point.timestamp,
            "step": point.step,
            "dataset_name": point.dataset_name,
            "dataset_digest": point.dataset_digest,
            "model_id": point.model_id,
            "run_id": point.run_id,
        }
    )


def metric_history(rows: Sequence[HistoryRow]) -> list[dict[str, Any]]:
    """History points straight from database tuples: the hot path of ``get-history``.

    Same shape as :func:`metric`; the common point (finite value, no dataset or model)
    skips the general shaping, which would cost more than the query for long histories.
    """
    shaped: list[dict[str, Any]] = []
    append = shaped.append
    for key, value, is_nan, timestamp, step, model_id, dataset_name, dataset_digest in rows:
        shown: float | str = value
        if is_nan:
            shown = "NaN"
        elif value - value != 0:  # ±inf (stored clamped, but read defensively)
            shown = double(value)
        point = {"key": key, "value": shown, "timestamp": timestamp, "step": step}
        if dataset_name:
            point["dataset_name"] = dataset_name
        if dataset_digest:
            point["dataset_digest"] = dataset_digest
        if model_id:
            point["model_id"] = model_id
        append(point)
    return shaped


def run_info(info: RunInfo) -> dict[str, Any]:
    return compact(
        {
            "run_uuid": info.run_id,
            "run_id": info.run_id,
            "experiment_id": str(info.experiment_id),
            "run_name": info.run_name,
            "user_id": info.user_id,
            "status": info.status,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "artifact_uri": info.artifact_uri,
            "lifecycle_stage": info.lifecycle_stage,
        }
    )


def dataset_input(item: DatasetInput) -> dict[str, Any]:
    dataset = item.dataset
    return compact(
        {
            "tags": key_values(item.tags),
            "dataset": compact(
                {
                    "name": dataset.name,
                    "digest": dataset.digest,
                    "source_type": dataset.source_type,
                    "source": dataset.source,
                    "schema": dataset.schema,
                    "profile": dataset.profile,
                }
            ),
        }
    )


def run(value: Run) -> dict[str, Any]:
    return {
        "info": run_info(value.info),
        "data": compact(
            {
                "metrics": [metric(m) for m in value.metrics],
                "params": key_values(value.params),
                "tags": key_values(value.tags),
            }
        ),
        "inputs": compact(
            {
                "dataset_inputs": [dataset_input(d) for d in value.dataset_inputs],
                "model_inputs": [{"model_id": model_id} for model_id in value.model_inputs],
            }
        ),
        "outputs": compact(
            {
                "model_outputs": [
                    {"model_id": o.model_id, "step": o.step} for o in value.model_outputs
                ],
            }
        ),
    }


def logged_model(model: LoggedModel) -> dict[str, Any]:
    return {
        "info": compact(
            {
                "model_id": model.model_id,
                "experiment_id": str(model.experiment_id),
                "name": model.name,
                "creation_timestamp_ms": model.creation_timestamp_ms,
                "last_updated_timestamp_ms": model.last_updated_timestamp_ms,
                "artifact_uri": model.artifact_location,
                "status": model.status,
                "status_message": model.status_message,
                "model_type": model.model_type,
                "source_run_id": model.source_run_id,
                "tags": key_values(model.tags),
            }
        ),
        "data": compact(
            {
                "params": key_values(model.params),
                "metrics": [metric(m) for m in model.metrics],
            }
        ),
    }
