"""Writing history brought from another MLflow store, with its ids and timestamps kept.

The REST API mints new run ids and stamps "now" on everything; an import must not. These
functions write experiments, runs, metrics, logged models and the registry exactly as
given, and every one of them is idempotent: running an import twice, or resuming an
interrupted one, adds nothing the first pass already wrote. Where the target already
holds something else under the same id, the record is skipped and the reason returned,
never overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store import tables
from service.store.db import Database
from service.store.entities import DatasetInput, KeyValue, MetricPoint, ModelOutput
from service.store.experiments import MAX_EXPERIMENT_ID, PROXIED_ARTIFACTS_SCHEME
from service.store.metrics import insert_metrics
from service.store.registry import MAX_VERSION
from service.store.run_inputs import log_dataset_inputs

experiments = tables.Experiment.__table__
experiment_tags = tables.ExperimentTag.__table__
runs = tables.Run.__table__
params = tables.Param.__table__
run_tags = tables.RunTag.__table__
metrics = tables.Metric.__table__
run_model_inputs = tables.RunModelInput.__table__
run_model_outputs = tables.RunModelOutput.__table__
logged_models = tables.LoggedModel.__table__
logged_model_tags = tables.LoggedModelTag.__table__
logged_model_params = tables.LoggedModelParam.__table__
registered_models = tables.RegisteredModel.__table__
registered_model_tags = tables.RegisteredModelTag.__table__
model_versions = tables.ModelVersion.__table__
model_version_tags = tables.ModelVersionTag.__table__
aliases = tables.RegisteredModelAlias.__table__


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


# --- records -------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class ModelVersionImport:
    name: str
    version: int
    creation_time: int
    last_updated_time: int
    current_stage: str
    source: str
    status: str
    description: str | None = None
    user_id: str | None = None
    run_id: str | None = None
    run_link: str | None = None
    status_message: str | None = None
    #: Where the files are on the target; derived from the logged model when unset.
    storage_location: str | None = None
    model_id: str | None = None
    tags: list[KeyValue] = field(default_factory=list)


class ImportStore:
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
                _insert_missing_tags(
                    conn, experiment_tags, "experiment_id", placement.experiment_id, experiment.tags
                )
                return placement
            new_id = _create_experiment(conn, self.db.dialect, experiment, placement.experiment_id)
            return Placement(new_id, Outcome.CREATED, placement.note)

    # --- runs ------------------------------------------------------------------------

    def import_run(self, experiment_id: int, run: RunImport) -> RunPlaced:
        """Write a run with its own id, times, status and user, then its data."""
        with self.db.write() as conn:
            location = _experiment_location(conn, experiment_id)
            existing = _lock_run(conn, self.db.is_sqlite, run.run_id)
            values = {
                "name": run.name,
                "user_id": run.user_id,
                "status": run.status,
                "start_time": run.start_time,
                "end_time": run.end_time,
                "lifecycle_stage": run.lifecycle_stage,
                "deleted_time": run.deleted_time,
            }
            if existing is None:
                artifact_uri = f"{location.rstrip('/')}/{run.run_id}/artifacts"
                conn.execute(
                    sa.insert(runs).values(
                        run_uuid=run.run_id,
                        experiment_id=experiment_id,
                        artifact_uri=artifact_uri,
                        **values,
                    )
                )
                outcome = Outcome.CREATED
            elif existing["experiment_id"] != experiment_id:
                note = (
                    f"run {run.run_id} already exists on the target in experiment "
                    f"{existing['experiment_id']}"
                )
                return RunPlaced(Result(Outcome.SKIPPED, [note]))
            else:
                artifact_uri = existing["artifact_uri"]
                conn.execute(sa.update(runs).where(runs.c.run_uuid == run.run_id).values(values))
                outcome = Outcome.MERGED
            _replace_tags(conn, run_tags, "run_uuid", run.run_id, run.tags)
            notes = _insert_params(conn, params, "run_uuid", run.run_id, run.params)
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
            return RunPlaced(Result(outcome, notes), artifact_uri)

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
        with self.db.write() as conn:
            location = _experiment_location(conn, experiment_id)
            existing = (
                conn.execute(
                    sa.select(
                        logged_models.c.experiment_id, logged_models.c.artifact_location
                    ).where(logged_models.c.model_id == model.model_id)
                )
                .mappings()
                .first()
            )
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
            if existing is None:
                artifact_location = f"{location.rstrip('/')}/models/{model.model_id}/artifacts"
                conn.execute(
                    sa.insert(logged_models).values(
                        model_id=model.model_id,
                        experiment_id=experiment_id,
                        artifact_location=artifact_location,
                        **values,
                    )
                )
                outcome = Outcome.CREATED
            elif existing["experiment_id"] != experiment_id:
                note = (
                    f"logged model {model.model_id} already exists on the target in "
                    f"experiment {existing['experiment_id']}"
                )
                return LoggedModelPlaced(Result(Outcome.SKIPPED, [note]))
            else:
                artifact_location = existing["artifact_location"]
                conn.execute(
                    sa.update(logged_models)
                    .where(logged_models.c.model_id == model.model_id)
                    .values(values)
                )
                outcome = Outcome.MERGED
            _replace_tags(conn, logged_model_tags, "model_id", model.model_id, model.tags)
            notes = _insert_params(
                conn, logged_model_params, "model_id", model.model_id, model.params
            )
            return LoggedModelPlaced(Result(outcome, notes), artifact_location)

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

    # --- registry --------------------------------------------------------------------

    def import_registered_model(self, model: RegisteredModelImport) -> Result:
        with self.db.write() as conn:
            last_version = conn.execute(
                sa.select(registered_models.c.last_version).where(
                    registered_models.c.name == model.name
                )
            ).scalar()
            if last_version is None:
                conn.execute(
                    sa.insert(registered_models).values(
                        name=model.name,
                        creation_time=model.creation_time,
                        last_updated_time=model.last_updated_time,
                        description=model.description,
                        last_version=model.last_version,
                    )
                )
                outcome = Outcome.CREATED
            else:
                if model.last_version > last_version:
                    conn.execute(
                        sa.update(registered_models)
                        .where(registered_models.c.name == model.name)
                        .values(last_version=model.last_version)
                    )
                outcome = Outcome.MERGED
            _insert_missing_tags(conn, registered_model_tags, "name", model.name, model.tags)
        return Result(outcome)

    def import_model_version(self, version: ModelVersionImport) -> Result:
        """Write a version under its own number; a different version there is kept."""
        if not 0 < version.version <= MAX_VERSION:
            raise InvalidParameterValue(f"Invalid model version number {version.version}")
        key = sa.and_(
            model_versions.c.name == version.name, model_versions.c.version == version.version
        )
        with self.db.write() as conn:
            if (
                conn.execute(
                    sa.select(registered_models.c.name)
                    .where(registered_models.c.name == version.name)
                    .with_for_update()
                ).first()
                is None
            ):
                raise ResourceDoesNotExist(f"Registered Model with name={version.name} not found")
            existing = conn.execute(sa.select(model_versions).where(key)).mappings().first()
            if existing is not None:
                if (existing["source"], existing["creation_time"]) != (
                    version.source,
                    version.creation_time,
                ):
                    note = (
                        f"version {version.version} of '{version.name}' already exists on the "
                        "target with another source"
                    )
                    return Result(Outcome.SKIPPED, [note])
                outcome = Outcome.MERGED
            else:
                conn.execute(
                    sa.insert(model_versions).values(
                        name=version.name,
                        version=version.version,
                        creation_time=version.creation_time,
                        last_updated_time=version.last_updated_time,
                        description=version.description,
                        user_id=version.user_id,
                        current_stage=version.current_stage,
                        source=version.source,
                        run_id=version.run_id,
                        run_link=version.run_link,
                        status=version.status,
                        status_message=version.status_message,
                        storage_location=_storage_location(conn, version),
                        model_id=version.model_id,
                    )
                )
                conn.execute(
                    sa.update(registered_models)
                    .where(
                        registered_models.c.name == version.name,
                        registered_models.c.last_version < version.version,
                    )
                    .values(last_version=version.version)
                )
                outcome = Outcome.CREATED
            for tag in _last_wins(version.tags):
                conn.execute(
                    sa.delete(model_version_tags).where(
                        model_version_tags.c.name == version.name,
                        model_version_tags.c.version == version.version,
                        model_version_tags.c.key == tag.key,
                    )
                )
                conn.execute(
                    sa.insert(model_version_tags).values(
                        name=version.name, version=version.version, key=tag.key, value=tag.value
                    )
                )
        return Result(outcome)

    def import_alias(self, name: str, alias: str, version: int) -> Result:
        """Point ``alias`` at ``version`` unless the target already points it elsewhere."""
        with self.db.write() as conn:
            exists = conn.execute(
                sa.select(model_versions.c.version).where(
                    model_versions.c.name == name, model_versions.c.version == version
                )
            ).first()
            if exists is None:
                note = f"alias '{alias}' of '{name}': version {version} is not on the target"
                return Result(Outcome.SKIPPED, [note])
            current = conn.execute(
                sa.select(aliases.c.version).where(aliases.c.name == name, aliases.c.alias == alias)
            ).scalar()
            if current is None:
                conn.execute(sa.insert(aliases).values(name=name, alias=alias, version=version))
                return Result(Outcome.CREATED)
            if current != version:
                note = (
                    f"alias '{alias}' of '{name}' already names version {current} on the "
                    f"target (the source says {version})"
                )
                return Result(Outcome.SKIPPED, [note])
            return Result(Outcome.MERGED)


# --- helpers -----------------------------------------------------------------------------


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
    new_id = int(conn.execute(sa.insert(experiments).values(values)).inserted_primary_key[0])
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
    _insert_missing_tags(conn, experiment_tags, "experiment_id", new_id, experiment.tags)
    return new_id


def _experiment_location(conn: Connection, experiment_id: int) -> str:
    location = conn.execute(
        sa.select(experiments.c.artifact_location).where(
            experiments.c.experiment_id == experiment_id
        )
    ).scalar()
    if location is None:
        raise ResourceDoesNotExist(f"No Experiment with id={experiment_id} exists")
    return location


def _lock_run(conn: Connection, is_sqlite: bool, run_id: str) -> sa.RowMapping | None:
    """The run's row, locked for the transaction (SQLite serialises writers anyway)."""
    query = sa.select(runs.c.experiment_id, runs.c.artifact_uri).where(runs.c.run_uuid == run_id)
    if not is_sqlite:
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def _last_wins(items: Sequence[KeyValue]) -> list[KeyValue]:
    return list({item.key: item for item in items}.values())


def _insert_missing_tags(
    conn: Connection, table: sa.Table, owner_column: str, owner: int | str, tags: list[KeyValue]
) -> None:
    """Tags the target does not have yet; its own values win on a merge."""
    column = table.c[owner_column]
    present = set(conn.execute(sa.select(table.c.key).where(column == owner)).scalars())
    fresh = [
        {owner_column: owner, "key": t.key, "value": t.value}
        for t in _last_wins(tags)
        if t.key not in present
    ]
    if fresh:
        conn.execute(sa.insert(table), fresh)


def _replace_tags(
    conn: Connection, table: sa.Table, owner_column: str, owner: str, tags: Sequence[KeyValue]
) -> None:
    """Set the source's tags; tags only the target has are left alone."""
    latest = _last_wins(tags)
    if not latest:
        return
    conn.execute(
        sa.delete(table).where(
            table.c[owner_column] == owner, table.c.key.in_([t.key for t in latest])
        )
    )
    conn.execute(
        sa.insert(table), [{owner_column: owner, "key": t.key, "value": t.value} for t in latest]
    )


def _insert_params(
    conn: Connection, table: sa.Table, owner_column: str, owner: str, items: Sequence[KeyValue]
) -> list[str]:
    """Insert missing params; a param the target holds with another value is reported."""
    existing = dict(
        conn.execute(sa.select(table.c.key, table.c.value).where(table.c[owner_column] == owner))
        .tuples()
        .all()
    )
    notes = [
        f"param '{p.key}' of {owner} kept its target value {existing[p.key]!r} "
        f"(the source has {p.value!r})"
        for p in _last_wins(items)
        if p.key in existing and existing[p.key] != p.value
    ]
    fresh = [
        {owner_column: owner, "key": p.key, "value": p.value}
        for p in _last_wins(items)
        if p.key not in existing
    ]
    if fresh:
        conn.execute(sa.insert(table), fresh)
    return notes


def _insert_links(
    conn: Connection, table: sa.Table, run_id: str, rows: list[dict[str, object]]
) -> None:
    present = set(
        conn.execute(sa.select(table.c.model_id).where(table.c.run_uuid == run_id)).scalars()
    )
    fresh = [{"run_uuid": run_id, **row} for row in rows if row["model_id"] not in present]
    if fresh:
        conn.execute(sa.insert(table), fresh)


def _storage_location(conn: Connection, version: ModelVersionImport) -> str | None:
    """The given location, or the logged model's files for a ``models:/<id>`` version."""
    if version.storage_location:
        return version.storage_location
    model_id = version.model_id
    if not model_id and version.source.startswith("models:/m-"):
        model_id = version.source.removeprefix("models:/")
    if not model_id:
        return None
    return conn.execute(
        sa.select(logged_models.c.artifact_location).where(logged_models.c.model_id == model_id)
    ).scalar()
