"""What a source yields: the store's import records plus where things live in the source.

Ids are the source's own. Experiment ids stay strings here because a file store's ids
(18-digit random numbers) need not fit the target; the runner maps them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.store.entities.registry import ModelVersion
from service.store.imports import (
    ExperimentImport,
    LoggedModelImport,
    RegisteredModelImport,
    RunImport,
)


@dataclass(frozen=True, slots=True)
class SourceExperiment:
    experiment_id: str
    artifact_location: str
    data: ExperimentImport


@dataclass(frozen=True, slots=True)
class SourceRun:
    experiment_id: str
    artifact_uri: str
    data: RunImport
    #: Every metric key the run has logged; histories are read one key at a time.
    metric_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SourceLoggedModel:
    experiment_id: str
    artifact_location: str
    data: LoggedModelImport


@dataclass(frozen=True, slots=True)
class SourceRegisteredModel:
    data: RegisteredModelImport
    versions: list[ModelVersion] = field(default_factory=list)
    #: alias -> version number
    aliases: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArtifactFile:
    """A file under an artifact root; ``path`` is relative, with ``/`` separators."""

    path: str
    size: int
