"""Writing history brought from another MLflow store, with its ids and timestamps kept.

The REST API mints new run ids and stamps "now" on everything; an import must not. These
stores write experiments, runs, metrics, logged models and the registry exactly as
given, and every write is idempotent: running an import twice, or resuming an
interrupted one, adds nothing the first pass already wrote. Where the target already
holds something else under the same id, the record is skipped and the reason returned,
never overwritten.

Modules: ``records`` (what an import writes and answers), ``tracking`` (experiments,
runs, metrics, logged models), ``registry`` (registered models, versions, aliases),
``rows`` (tags and params merged into what the target holds).
"""

from __future__ import annotations

from service.store.imports.records import (
    ExperimentImport,
    LoggedModelImport,
    LoggedModelPlaced,
    Outcome,
    Placement,
    RegisteredModelImport,
    Result,
    RunImport,
    RunPlaced,
    derive,
)
from service.store.imports.registry import RegistryImports
from service.store.imports.tracking import TrackingImports


class ImportStore(TrackingImports, RegistryImports):
    """Every import write over one database: the tracking half and the registry half."""


__all__ = [
    "ExperimentImport",
    "ImportStore",
    "LoggedModelImport",
    "LoggedModelPlaced",
    "Outcome",
    "Placement",
    "RegisteredModelImport",
    "Result",
    "RunImport",
    "RunPlaced",
    "derive",
]
