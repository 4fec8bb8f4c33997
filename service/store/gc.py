"""The database side of ``stratus gc``: find what was deleted, then remove it for good.

Everything is read in keyset-paged batches and removed in short transactions, so memory
and lock times stay flat however large the backlog. A run's metric history, the one
table that can reach millions of rows per run, goes in fixed-size chunks before the run
row itself; every other dependent row goes with its parent through ``ON DELETE CASCADE``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store.db import AnyRow, AnySelect, Database
from service.store.entities.gc import Deleted, Kind, Selection
from service.store.tables import Experiment, LoggedModel, Metric, ModelVersion, Run, table_of

experiments = table_of(Experiment)
runs = table_of(Run)
logged_models = table_of(LoggedModel)
metrics = table_of(Metric)
model_versions = table_of(ModelVersion)


#: Rows fetched per keyset page.
PAGE = 500
#: Metric rows removed per transaction.
METRIC_CHUNK = 10_000


@dataclass(frozen=True)
class _Listing:
    """How one kind of item is listed: its table, id column and artifact location."""

    kind: Kind
    table: sa.Table
    id: sa.Column[Any]
    location: sa.Column[Any]

    def select(self) -> AnySelect:
        return sa.select(self.id, self.table.c.experiment_id, self.location)


RUN_LISTING = _Listing("run", runs, runs.c.run_uuid, runs.c.artifact_uri)
MODEL_LISTING = _Listing(
    "logged model", logged_models, logged_models.c.model_id, logged_models.c.artifact_location
)


class GarbageStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- finding ---------------------------------------------------------------------

    def check(self, selection: Selection) -> None:
        """Refuse explicitly named items that are missing, not deleted, or too recent."""
        named: list[tuple[sa.Table, sa.Column[Any], Sequence[str | int], str]] = [
            (runs, runs.c.run_uuid, selection.run_ids or (), "Run"),
            (
                experiments,
                experiments.c.experiment_id,
                selection.experiment_ids or (),
                "Experiment",
            ),
            (
                logged_models,
                logged_models.c.model_id,
                selection.logged_model_ids or (),
                "Logged model",
            ),
        ]
        with self.db.read() as conn:
            for table, key, ids, label in named:
                for item_id in ids:
                    row = conn.execute(
                        sa.select(table.c.lifecycle_stage, table.c.deleted_time).where(
                            key == item_id
                        )
                    ).first()
                    if row is None:
                        raise ResourceDoesNotExist(f"{label} {item_id} does not exist.")
                    if row.lifecycle_stage != "deleted":
                        raise InvalidParameterValue(
                            f"{label} {item_id} is not in the deleted lifecycle stage; only "
                            "deleted items can be removed permanently."
                        )
                    if not _old_enough(row.deleted_time, selection.deleted_before):
                        raise InvalidParameterValue(
                            f"{label} {item_id} was deleted too recently for --older-than."
                        )

    def experiments(self, selection: Selection) -> Iterator[Deleted]:
        """Deleted experiments to remove, with everything in them."""
        if selection.explicit and selection.experiment_ids is None:
            return
        query = sa.select(experiments.c.experiment_id, experiments.c.artifact_location).where(
            _deleted(experiments, selection.deleted_before)
        )
        if selection.experiment_ids is not None:
            query = query.where(experiments.c.experiment_id.in_(selection.experiment_ids))
        for row in self._pages(query, experiments.c.experiment_id):
            yield Deleted("experiment", str(row[0]), row[0], row[1])

    def runs(self, selection: Selection) -> Iterator[Deleted]:
        """Deleted runs outside the experiments being removed (those go with them)."""
        return self._deleted_items(RUN_LISTING, selection.run_ids, selection)

    def logged_models(self, selection: Selection) -> Iterator[Deleted]:
        """Deleted logged models outside the experiments being removed."""
        return self._deleted_items(MODEL_LISTING, selection.logged_model_ids, selection)

    def contents(self, experiment_id: int) -> Iterator[Deleted]:
        """Every run and logged model of an experiment, whatever its own stage."""
        for listing in (RUN_LISTING, MODEL_LISTING):
            query = listing.select().where(listing.table.c.experiment_id == experiment_id)
            yield from self._listed(listing, query)

    def metric_rows(self, run_id: str) -> int:
        with self.db.read() as conn:
            query = sa.select(sa.func.count()).select_from(metrics)
            return conn.execute(query.where(metrics.c.run_uuid == run_id)).scalar_one()

    def in_registry(self, item: Deleted) -> bool:
        """Whether a registered model version still loads its files from ``item``."""
        versions = model_versions.c
        if item.kind == "logged model":
            uses = sa.or_(versions.model_id == item.id, versions.source == f"models:/{item.id}")
        elif item.kind == "run":
            prefix = f"{item.artifact_uri.rstrip('/')}/%"
            uses = sa.or_(
                versions.source.like(f"runs:/{item.id}/%"),
                versions.source.like(prefix),
                versions.storage_location.like(prefix),
            )
        else:
            return False
        with self.db.read() as conn:
            return conn.execute(sa.select(sa.literal(1)).where(uses).limit(1)).first() is not None

    # --- removing --------------------------------------------------------------------

    def purge_run(self, run_id: str, progress: Callable[[int], None] | None = None) -> int:
        """Remove a run and all its rows; returns how many metric rows went with it."""
        removed = 0
        while True:
            with self.db.write() as conn:
                count = conn.execute(self._metric_chunk(run_id)).rowcount
            removed += count
            if progress and count:
                progress(removed)
            if count < METRIC_CHUNK:
                break
        with self.db.write() as conn:
            conn.execute(sa.delete(runs).where(runs.c.run_uuid == run_id))
        return removed

    def purge_logged_model(self, model_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(sa.delete(logged_models).where(logged_models.c.model_id == model_id))

    def purge_experiment(self, experiment_id: int) -> None:
        """Remove the experiment row; call once its runs and models are gone."""
        with self.db.write() as conn:
            conn.execute(sa.delete(experiments).where(experiments.c.experiment_id == experiment_id))

    # --- helpers ---------------------------------------------------------------------

    def _metric_chunk(self, run_id: str) -> sa.Delete:
        """DELETE at most METRIC_CHUNK metric rows of a run, in each dialect's own way."""
        of_run = metrics.c.run_uuid == run_id
        if self.db.dialect in ("mysql", "mariadb"):
            # MySQL has DELETE ... LIMIT, but no LIMIT in an IN subquery.
            return sa.delete(metrics).where(of_run).with_dialect_options(mysql_limit=METRIC_CHUNK)
        if self.db.dialect == "postgresql":
            row: sa.ColumnElement[Any] = sa.literal_column("ctid")
            chunk = sa.select(row)
        else:
            # SQLite: the table is WITHOUT ROWID, so rows are named by their primary key.
            key = [column for column in metrics.c if column.primary_key]
            row = sa.tuple_(*key)
            chunk = sa.select(*key)
        return sa.delete(metrics).where(row.in_(chunk.where(of_run).limit(METRIC_CHUNK)))

    def _deleted_items(
        self, listing: _Listing, ids: Sequence[str] | None, selection: Selection
    ) -> Iterator[Deleted]:
        if selection.explicit and ids is None:
            return
        query = listing.select().where(
            _deleted(listing.table, selection.deleted_before),
            ~listing.table.c.experiment_id.in_(self._doomed(selection)),
        )
        if ids is not None:
            query = query.where(listing.id.in_(ids))
        yield from self._listed(listing, query)

    def _listed(self, listing: _Listing, query: AnySelect) -> Iterator[Deleted]:
        for item_id, experiment_id, location in self._pages(query, listing.id):
            yield Deleted(listing.kind, item_id, experiment_id, location)

    def _doomed(self, selection: Selection) -> AnySelect:
        """Ids of the experiments this selection removes (their contents go with them)."""
        query = sa.select(experiments.c.experiment_id).where(
            _deleted(experiments, selection.deleted_before)
        )
        if selection.explicit:
            query = query.where(experiments.c.experiment_id.in_(selection.experiment_ids or ()))
        return query

    def _pages(self, query: AnySelect, key: sa.Column[Any]) -> Iterator[AnyRow]:
        """Rows of ``query`` in key order, one short read per page (safe while deleting)."""
        last = None
        while True:
            page_query = query.order_by(key).limit(PAGE)
            if last is not None:
                page_query = page_query.where(key > last)
            with self.db.read() as conn:
                page = conn.execute(page_query).all()
            yield from page
            if len(page) < PAGE:
                return
            last = page[-1][0]


def _deleted(table: sa.Table, deleted_before: int | None) -> sa.ColumnElement[bool]:
    condition = table.c.lifecycle_stage == "deleted"
    if deleted_before is not None:
        condition = sa.and_(condition, table.c.deleted_time < deleted_before)
    return condition


def _old_enough(deleted_time: int | None, deleted_before: int | None) -> bool:
    return deleted_before is None or (deleted_time is not None and deleted_time < deleted_before)
