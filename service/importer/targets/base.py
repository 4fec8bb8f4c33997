"""The writing side of an import: the local store, or a Stratus server over REST.

Every method is idempotent (see :mod:`service.store.imports`), which is what makes an
interrupted import safe to resume.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from service.importer.sources.base import Source
from service.store.entities.registry import ModelVersion
from service.store.entities.tracking import MetricPoint
from service.store.imports import (
    ExperimentImport,
    LoggedModelImport,
    LoggedModelPlaced,
    Placement,
    RegisteredModelImport,
    Result,
    RunImport,
    RunPlaced,
)


class Target(Protocol):
    description: str

    def place_experiment(
        self, experiment: ExperimentImport, wanted_id: int | None, *, exact: bool, dry_run: bool
    ) -> Placement: ...

    def import_run(self, experiment_id: int, run: RunImport) -> RunPlaced: ...

    def import_metrics(self, run_id: str, points: Sequence[MetricPoint]) -> None: ...

    def import_logged_model(
        self, experiment_id: int, model: LoggedModelImport
    ) -> LoggedModelPlaced: ...

    def import_model_metrics(self, model_id: str, points: Sequence[MetricPoint]) -> int: ...

    def import_registered_model(self, model: RegisteredModelImport) -> Result: ...

    def import_model_version(self, version: ModelVersion) -> Result: ...

    def import_alias(self, name: str, alias: str, version: int) -> Result: ...

    def write_artifact(self, location: str, path: str, chunks: Iterable[bytes]) -> None:
        """Store one file at ``path`` under an artifact location of the target."""
        ...

    def finish(self) -> None:
        """After a completed import: what the target does once (analyse the tables)."""
        ...

    def reader(self) -> Source:
        """The target read back as a source, for ``--verify``."""
        ...

    def close(self) -> None: ...
