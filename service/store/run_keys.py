"""The metric, param and tag keys the runs of one experiment use, for the runs table's
column picker: ``SELECT DISTINCT key`` over the experiment's runs, sorted and bounded, so
an experiment with 100,000 keys still answers a short list (refined by ``contains``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from service.store.db import Database
from service.store.tables import LatestMetric, Param, RunTag, table_of
from service.store.tables import Run as RunRow

SYSTEM_TAG_PREFIX = "mlflow."

_runs = table_of(RunRow)
_KEYED = {
    "metrics": table_of(LatestMetric),
    "params": table_of(Param),
    "tags": table_of(RunTag),
}


@dataclass(frozen=True)
class RunKeys:
    metrics: list[str]
    params: list[str]
    tags: list[str]
    """User tags only: system tags (``mlflow.*``) are never columns."""
    truncated: bool
    """Some kind had more than ``limit`` keys: refine with ``contains``."""


def experiment_run_keys(
    db: Database, experiment_id: int, *, contains: str | None, limit: int
) -> RunKeys:
    """Up to ``limit`` keys of each kind, in order; ``contains`` matches case-insensitively."""
    found: dict[str, list[str]] = {}
    truncated = False
    with db.read() as conn:
        for kind, table in _KEYED.items():
            key: sa.ColumnElement[Any] = table.c.key
            query = (
                sa.select(key)
                .distinct()
                .join(_runs, _runs.c.run_uuid == table.c.run_uuid)
                .where(_runs.c.experiment_id == experiment_id)
                .order_by(key)
                .limit(limit + 1)
            )
            if kind == "tags":
                query = query.where(~key.startswith(SYSTEM_TAG_PREFIX, autoescape=True))
            if contains:
                query = query.where(sa.func.lower(key).contains(contains.lower(), autoescape=True))
            keys = [row[0] for row in conn.execute(query)]
            truncated = truncated or len(keys) > limit
            found[kind] = keys[:limit]
    return RunKeys(found["metrics"], found["params"], found["tags"], truncated)
