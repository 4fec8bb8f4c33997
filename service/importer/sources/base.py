"""The reading side of an import: one protocol for every kind of MLflow store.

Everything is an iterator, and metric histories are read one key at a time, so memory
stays flat however large the source is. Artifact trees stream their files in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from service.importer.records import (
    ArtifactFile,
    SourceExperiment,
    SourceLoggedModel,
    SourceRegisteredModel,
    SourceRun,
)
from service.store.entities.tracking import MetricPoint


class ArtifactsUnavailable(Exception):
    """A run's or model's files cannot be reached from here; the message says why."""


class ArtifactTree(Protocol):
    def files(self) -> Iterator[ArtifactFile]:
        """Every file below the root, recursively."""
        ...

    def chunks(self, path: str) -> Iterator[bytes]:
        """The bytes of one file, in bounded chunks."""
        ...


class Source(Protocol):
    #: A line for the logs, such as ``mlruns folder /home/me/mlruns``.
    description: str

    def experiments(self) -> Iterator[SourceExperiment]:
        """Every experiment, deleted ones included."""
        ...

    def runs(self, experiment: SourceExperiment) -> Iterator[SourceRun]:
        """Every run of the experiment, deleted ones included."""
        ...

    def metric_history(self, run: SourceRun, key: str) -> Iterator[MetricPoint]: ...

    def point_count(self, run: SourceRun, key: str) -> int:
        """How many points the history of ``key`` holds (for ``--dry-run``)."""
        ...

    def run_artifacts(self, run: SourceRun) -> ArtifactTree:
        """The run's files; raises :class:`ArtifactsUnavailable` when out of reach."""
        ...

    def logged_models(self, experiment: SourceExperiment) -> Iterator[SourceLoggedModel]: ...

    def logged_model_metrics(self, model: SourceLoggedModel) -> Iterator[MetricPoint]:
        """The model's metrics, each with the ``run_id`` it was logged in."""
        ...

    def model_artifacts(self, model: SourceLoggedModel) -> ArtifactTree: ...

    def registered_models(self) -> Iterator[SourceRegisteredModel]: ...

    def close(self) -> None: ...
