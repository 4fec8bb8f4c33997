"""What an import writes and what it answers.

An import record is the store's entity less what the target assigns (experiment ids,
artifact locations) and less what travels separately (metric histories); a model
version is imported as the store's own :class:`~service.store.entities.registry.ModelVersion`.
:func:`derive` builds a record from the entities a store returns.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from service.store.entities.common import KeyValue
from service.store.entities.tracking import DatasetInput, ModelOutput

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


class Outcome(Enum):
    CREATED = "created"
    #: It was there already (an earlier or interrupted import); missing parts were added.
    MERGED = "merged"
    #: Something else holds its id on the target; nothing was written.
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    #: Why it was skipped, or what could not be merged (a param with another value).
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ExperimentImport:
    name: str
    lifecycle_stage: str
    creation_time: int
    last_update_time: int
    tags: list[KeyValue] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an imported experiment lands; ``experiment_id`` is None in a dry run's "new id"."""

    experiment_id: int | None
    outcome: Outcome
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RunImport:
    run_id: str
    name: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    deleted_time: int | None = None
    params: list[KeyValue] = field(default_factory=list)
    tags: list[KeyValue] = field(default_factory=list)
    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[str] = field(default_factory=list)
    model_outputs: list[ModelOutput] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunPlaced:
    result: Result
    #: The run's artifact URI on the target (unset when skipped).
    artifact_uri: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedModelImport:
    model_id: str
    name: str
    creation_timestamp_ms: int
    last_updated_timestamp_ms: int
    status: str
    lifecycle_stage: str
    status_message: str | None = None
    model_type: str = ""
    source_run_id: str | None = None
    tags: list[KeyValue] = field(default_factory=list)
    params: list[KeyValue] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LoggedModelPlaced:
    result: Result
    artifact_location: str | None = None


@dataclass(frozen=True, slots=True)
class RegisteredModelImport:
    name: str
    creation_time: int
    last_updated_time: int
    description: str | None = None
    #: The highest version number the source ever assigned (deleted ones included).
    last_version: int = 0
    tags: list[KeyValue] = field(default_factory=list)


def derive(record: type[R], *entities: Any, **given: Any) -> R:
    """A ``record`` whose fields come from ``given``, else from the first of ``entities``
    (dataclasses) with a field of that name; a field none of them has keeps its default."""
    names = {f.name for f in dataclasses.fields(record)}
    values: dict[str, Any] = {}
    for entity in reversed(entities):
        fields = dataclasses.fields(entity)
        values.update({f.name: getattr(entity, f.name) for f in fields if f.name in names})
    return record(**{**values, **given})
