"""Importing tracking data: experiments, runs with their histories, and logged models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store import key_values, tables
from service.store.db import AnyRow, Database, inserted_id
from service.store.entities.tracking import MetricPoint
from service.store.experiments import MAX_EXPERIMENT_ID, PROXIED_ARTIFACTS_SCHEME
from service.store.imports.records import (
    ExperimentImport,
    LoggedModelImport,
    LoggedModelPlaced,
    Outcome,
    Placement,
    Result,
    RunImport,
    RunPlaced,
)
from service.store.imports.rows import insert_missing, insert_params
from service.store.metrics import insert_metrics
from service.store.run_inputs import log_dataset_inputs

experiments = tables.table_of(tables.Experiment)
experiment_tags = tables.table_of(tables.ExperimentTag)
runs = tables.table_of(tables.Run)
params = tables.table_of(tables.Param)
run_tags = tables.table_of(tables.RunTag)
metrics = tables.table_of(tables.Metric)
run_model_inputs = tables.table_of(tables.RunModelInput)
run_model_outputs = tables.table_of(tables.RunModelOutput)
logged_models = tables.table_of(tables.LoggedModel)
logged_model_tags = tables.table_of(tables.LoggedModelTag)
logged_model_params = tables.table_of(tables.LoggedModelParam)


class TrackingImports:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- experiments -----------------------------------------------------------------

    def place_experiment(
        self,
        experiment: ExperimentImport,
        wanted_id: int | None,
        *,
        exact: bool = False,
        dry_run: bool = False,
    ) -> Placement:
        """Find or create the target experiment for an imported one.

        With ``exact`` (an explicit mapping) the experiment goes to ``wanted_id``: merged
        into the experiment there, or created with that id. Otherwise an experiment with
        the same name takes it; failing that it is created with ``wanted_id`` when that
        id is free, and with a new id (and a note saying why) when it is not.
        """
        transaction = self.db.read() if dry_run else self.db.write()
        with transaction as conn:
            placement = _decide(conn, experiment, wanted_id, exact)
            if dry_run:
                return placement
            if placement.outcome is Outcome.MERGED:
                assert placement.experiment_id is not None
                insert_missing(
                    conn, experiment_tags, "experiment_id", placement.experiment_id, experiment.tags
                )
                return placement
            new_id = _create_experiment(conn, self.db.dialect, experiment, placement.experiment_id)
            return Placement(new_id, Outcome.CREATED, placement.note)

    # --- runs ------------------------------------------------------------------------

    def import_run(self, experiment_id: int, run: RunImport) -> RunPlaced:
        """Write a run with its own id, times, status and user, then its data."""
        values = {
            "name": run.name,
            "user_id": run.user_id,
            "status": run.status,
            "start_time": run.start_time,
            "end_time": run.end_time,
            "lifecycle_stage": run.lifecycle_stage,
            "deleted_time": run.deleted_time,
        }
        with self.db.write() as conn:
            placed, artifact_uri = _RUNS.write(
                conn, experiment_id, run.run_id, values, lock=not self.db.is_sqlite
            )
            if placed.outcome is Outcome.SKIPPED:
                return RunPlaced(placed)
            key_values.put(conn, run_tags, "run_uuid", run.run_id, run.tags)
            notes = insert_params(conn, params, "run_uuid", run.run_id, run.params)
            log_dataset_inputs(conn, run.run_id, experiment_id, run.dataset_inputs)
            _insert_links(
                conn,
                run_model_inputs,
                run.run_id,
                [{"model_id": m} for m in dict.fromkeys(run.model_inputs)],
            )
            _insert_links(
                conn,
                run_model_outputs,
                run.run_id,
                [{"model_id": o.model_id, "step": o.step} for o in run.model_outputs],
            )
            return RunPlaced(Result(placed.outcome, notes), artifact_uri)

    def import_metrics(self, run_id: str, points: Sequence[MetricPoint]) -> None:
        """Add points to a run's history; points it already has are left as they are."""
        if not points:
            return
        with self.db.write() as conn:
            if _lock_run(conn, self.db.is_sqlite, run_id) is None:
                raise ResourceDoesNotExist(f"Run with id={run_id} not found")
            insert_metrics(conn, self.db.dialect, run_id, points)

    # --- logged models ---------------------------------------------------------------

    def import_logged_model(
        self, experiment_id: int, model: LoggedModelImport
    ) -> LoggedModelPlaced:
        values = {
            "name": model.name,
            "creation_timestamp_ms": model.creation_timestamp_ms,
            "last_updated_timestamp_ms": model.last_updated_timestamp_ms,
            "status": model.status,
            "status_message": model.status_message,
            "model_type": model.model_type,
            "source_run_id": model.source_run_id,
            "lifecycle_stage": model.lifecycle_stage,
        }
        with self.db.write() as conn:
            placed, location = _LOGGED_MODELS.write(conn, experiment_id, model.model_id, values)
            if placed.outcome is Outcome.SKIPPED:
                return LoggedModelPlaced(placed)
            key_values.put(conn, logged_model_tags, "model_id", model.model_id, model.tags)
            notes = insert_params(
                conn, logged_model_params, "model_id", model.model_id, model.params
            )
            return LoggedModelPlaced(Result(placed.outcome, notes), location)

    def import_model_metrics(self, model_id: str, points: Sequence[MetricPoint]) -> int:
        """Attach a logged model's metrics (each naming its run) to the runs' histories.

        The point usually is in the run's history already, logged without the model id;
        it gets the model id. Otherwise it is added. Returns how many points were left
        out because their run is not on the target.
        """
        missing = 0
        with self.db.write() as conn:
            for point in points:
                run_id = point.run_id or ""
                if _lock_run(conn, self.db.is_sqlite, run_id) is None:
                    missing += 1
                    continue
                same_point = sa.and_(
                    metrics.c.run_uuid == run_id,
                    metrics.c.key == point.key,
                    metrics.c.step == point.step,
                    metrics.c.timestamp == point.timestamp,
                )
                linked = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(metrics)
                    .where(same_point, metrics.c.model_id == model_id)
                ).scalar_one()
                if linked:
                    continue
                updated = conn.execute(
                    sa.update(metrics)
                    .where(same_point, metrics.c.model_id.is_(None))
                    .values(
                        model_id=model_id,
                        dataset_name=point.dataset_name,
                        dataset_digest=point.dataset_digest,
                    )
                ).rowcount
                if not updated:
                    insert_metrics(conn, self.db.dialect, run_id, [point])
        return missing


# --- helpers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Owned:
    """Runs and logged models: each kept under its own id in one experiment, with its
    artifacts in a folder under the experiment's."""

    table: sa.Table
    id_column: str
    location_column: str
    #: The artifact folder under the experiment's location; ``{id}`` is the row's id.
    folder: str
    label: str

    def row(self, conn: Connection, row_id: str, *, lock: bool) -> AnyRow | None:
        """``(experiment_id, location)`` of the row, locked for the transaction if asked."""
        table = self.table
        query = sa.select(table.c.experiment_id, table.c[self.location_column]).where(
            table.c[self.id_column] == row_id
        )
        return conn.execute(query.with_for_update() if lock else query).first()

    def write(
        self,
        conn: Connection,
        experiment_id: int,
        row_id: str,
        values: dict[str, object],
        *,
        lock: bool = False,
    ) -> tuple[Result, str | None]:
        """Insert the row, or update the one an earlier import wrote; skip it (saying why)
        when another experiment holds the id. Returns the outcome and the row's artifact
        location (unset when skipped)."""
        experiment_location = _experiment_location(conn, experiment_id)
        existing = self.row(conn, row_id, lock=lock)
        if existing is None:
            folder = self.folder.format(id=row_id)
            location = f"{experiment_location.rstrip('/')}/{folder}"
            conn.execute(
                sa.insert(self.table).values(
                    {
                        self.id_column: row_id,
                        "experiment_id": experiment_id,
                        self.location_column: location,
                        **values,
                    }
                )
            )
            return Result(Outcome.CREATED), location
        holder, location = existing
        if holder != experiment_id:
            note = f"{self.label} {row_id} already exists on the target in experiment {holder}"
            return Result(Outcome.SKIPPED, [note]), None
        conn.execute(
            sa.update(self.table).where(self.table.c[self.id_column] == row_id).values(values)
        )
        return Result(Outcome.MERGED), location


_RUNS = _Owned(runs, "run_uuid", "artifact_uri", "{id}/artifacts", "run")
_LOGGED_MODELS = _Owned(
    logged_models, "model_id", "artifact_location", "models/{id}/artifacts", "logged model"
)


def _decide(
    conn: Connection, experiment: ExperimentImport, wanted_id: int | None, exact: bool
) -> Placement:
    by_name = conn.execute(
        sa.select(experiments.c.experiment_id).where(experiments.c.name == experiment.name)
    ).scalar()
    in_range = wanted_id is not None and 0 <= wanted_id <= MAX_EXPERIMENT_ID
    holder = (
        conn.execute(
            sa.select(experiments.c.name).where(experiments.c.experiment_id == wanted_id)
        ).scalar()
        if in_range
        else None
    )
    if exact:
        if not in_range:
            raise InvalidParameterValue(
                f"Experiment id {wanted_id} is out of range (0..{MAX_EXPERIMENT_ID})"
            )
        if holder is not None:
            return Placement(wanted_id, Outcome.MERGED, f"mapped onto experiment '{holder}'")
        if by_name is not None:
            raise InvalidParameterValue(
                f"Cannot create experiment {wanted_id} named '{experiment.name}': experiment "
                f"{by_name} already has that name"
            )
        return Placement(wanted_id, Outcome.CREATED)
    if by_name is not None:
        note = None if by_name == wanted_id else f"an experiment with this name is id {by_name}"
        return Placement(by_name, Outcome.MERGED, note)
    if not in_range:
        return Placement(None, Outcome.CREATED, f"id {wanted_id} does not fit; a new id is used")
    if holder is not None:
        return Placement(None, Outcome.CREATED, f"id {wanted_id} is taken by '{holder}'")
    return Placement(wanted_id, Outcome.CREATED)


def _create_experiment(
    conn: Connection, dialect: str, experiment: ExperimentImport, experiment_id: int | None
) -> int:
    values = {
        "name": experiment.name,
        "artifact_location": "",
        "lifecycle_stage": experiment.lifecycle_stage,
        "creation_time": experiment.creation_time,
        "last_update_time": experiment.last_update_time,
        "deleted_time": experiment.last_update_time
        if experiment.lifecycle_stage == "deleted"
        else None,
    }
    if experiment_id is not None:
        values["experiment_id"] = experiment_id
    new_id = inserted_id(conn.execute(sa.insert(experiments).values(values)))
    conn.execute(
        sa.update(experiments)
        .where(experiments.c.experiment_id == new_id)
        .values(artifact_location=f"{PROXIED_ARTIFACTS_SCHEME}/{new_id}")
    )
    if experiment_id is not None and dialect == "postgresql":
        # An explicit id does not move the serial's sequence; without this the next
        # ordinary create would be handed an id that is already taken.
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), "
                "(SELECT GREATEST(MAX(experiment_id), 1) FROM experiments))"
            )
        )
    insert_missing(conn, experiment_tags, "experiment_id", new_id, experiment.tags)
    return new_id


def _experiment_location(conn: Connection, experiment_id: int) -> str:
    location: str | None = conn.execute(
        sa.select(experiments.c.artifact_location).where(
            experiments.c.experiment_id == experiment_id
        )
    ).scalar()
    if location is None:
        raise ResourceDoesNotExist(f"No Experiment with id={experiment_id} exists")
    return location


def _lock_run(conn: Connection, is_sqlite: bool, run_id: str) -> AnyRow | None:
    """The run's row, locked for the transaction (SQLite serialises writers anyway)."""
    return _RUNS.row(conn, run_id, lock=not is_sqlite)


def _insert_links(
    conn: Connection, table: sa.Table, run_id: str, rows: list[dict[str, object]]
) -> None:
    present = set(
        conn.execute(sa.select(table.c.model_id).where(table.c.run_uuid == run_id)).scalars()
    )
    fresh = [{"run_uuid": run_id, **row} for row in rows if row["model_id"] not in present]
    if fresh:
        conn.execute(sa.insert(table), fresh)
