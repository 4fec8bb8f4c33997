"""The tracking records: experiments, runs, metrics, datasets and logged models."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TypeAlias

from service.store.entities.common import KeyValue


class ViewType(Enum):
    ACTIVE_ONLY = "ACTIVE_ONLY"
    DELETED_ONLY = "DELETED_ONLY"
    ALL = "ALL"

    def stages(self) -> tuple[str, ...]:
        return {
            ViewType.ACTIVE_ONLY: ("active",),
            ViewType.DELETED_ONLY: ("deleted",),
            ViewType.ALL: ("active", "deleted"),
        }[self]


class RunStatus(Enum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"


class LoggedModelStatus(Enum):
    LOGGED_MODEL_STATUS_UNSPECIFIED = "LOGGED_MODEL_STATUS_UNSPECIFIED"
    LOGGED_MODEL_PENDING = "LOGGED_MODEL_PENDING"
    LOGGED_MODEL_READY = "LOGGED_MODEL_READY"
    LOGGED_MODEL_UPLOAD_FAILED = "LOGGED_MODEL_UPLOAD_FAILED"


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One logged metric value. ``value`` may be NaN (the store keeps an is_nan flag)."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None
    run_id: str | None = None

    def logged(self) -> LoggedPoint:
        return (
            self.key,
            self.value,
            self.timestamp,
            self.step,
            self.model_id,
            self.dataset_name,
            self.dataset_digest,
        )


#: One metric point on its way in (log-metric, log-batch):
#: ``(key, value, timestamp, step, model_id, dataset_name, dataset_digest)``.
#: A plain tuple, not a :class:`MetricPoint`: a batch carries up to 1000 points, and a
#: frozen dataclass costs about 1 µs apiece to build, a tenth of the whole request.
LoggedPoint: TypeAlias = tuple[str, float, int, int, str | None, str | None, str | None]


@dataclass(frozen=True, slots=True)
class Experiment:
    experiment_id: int
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int
    last_update_time: int
    tags: list[KeyValue] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunInfo:
    run_id: str
    experiment_id: int
    run_name: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetInput:
    dataset: Dataset
    tags: list[KeyValue] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ModelOutput:
    model_id: str
    step: int


@dataclass(frozen=True, slots=True)
class Run:
    info: RunInfo
    metrics: list[MetricPoint] = field(default_factory=list)
    params: list[KeyValue] = field(default_factory=list)
    tags: list[KeyValue] = field(default_factory=list)
    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[str] = field(default_factory=list)
    model_outputs: list[ModelOutput] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LoggedModel:
    model_id: str
    experiment_id: int
    name: str
    artifact_location: str
    creation_timestamp_ms: int
    last_updated_timestamp_ms: int
    status: str
    status_message: str | None
    model_type: str
    source_run_id: str | None
    lifecycle_stage: str
    tags: list[KeyValue] = field(default_factory=list)
    params: list[KeyValue] = field(default_factory=list)
    metrics: list[MetricPoint] = field(default_factory=list)
