"""Runs: lifecycle, tags, params, metrics (log-batch), inputs/outputs and search.

Every write locks the run's row first (``SELECT ... FOR UPDATE``; SQLite serialises
writers anyway). That one query checks that the run exists and is active, and makes the
read-compare-write steps below (param immutability, latest-metric upkeep) race-free
across threads, processes and Cloud Run instances. A log-batch is one transaction.
"""

from __future__ import annotations

import contextlib
import json
import random
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store import key_values, run_pages, run_statements, search
from service.store.any_of import any_of
from service.store.clock import now_ms
from service.store.db import Database, planned_for_values
from service.store.entities.common import KeyValue, Page
from service.store.entities.tracking import (
    DatasetInput,
    LoggedPoint,
    ModelOutput,
    Run,
    RunInfo,
    RunStatus,
    ViewType,
)
from service.store.experiments import (
    MAX_EXPERIMENT_ID,
    ExperimentStore,
    active_location,
    possible_ids,
)
from service.store.metrics import insert_points, insert_points_if_active
from service.store.run_inputs import log_dataset_inputs
from service.store.statistics import PlannerStatistics, indexes_preferred
from service.store.tables import (
    LoggedModel,
    Param,
    RunModelInput,
    RunModelOutput,
    RunTag,
    table_of,
)
from service.store.tables import Run as RunRow
from service.store.validation import (
    MAX_RUN_NAME_LENGTH,
    validate_batch_sizes,
    validate_length,
    validate_params,
    validate_points,
    validate_tags,
)

runs = table_of(RunRow)
params = table_of(Param)
run_tags = table_of(RunTag)
run_model_inputs = table_of(RunModelInput)
run_model_outputs = table_of(RunModelOutput)
logged_models = table_of(LoggedModel)

#: The run tag MLflow 2's ``log-model`` appends each model's summary to.
LOGGED_MODELS_TAG = "mlflow.log-model.history"

RUN_NAME_TAG = "mlflow.runName"
_ADJECTIVES = (
    "bold",
    "brave",
    "bright",
    "calm",
    "clever",
    "crisp",
    "eager",
    "fast",
    "gentle",
    "glad",
    "keen",
    "kind",
    "lively",
    "lucky",
    "merry",
    "neat",
    "proud",
    "quick",
    "quiet",
    "sharp",
    "shy",
    "smart",
    "sunny",
    "swift",
    "tidy",
    "vast",
    "warm",
    "wise",
    "witty",
    "zesty",
)
_NOUNS = (
    "ant",
    "bass",
    "bear",
    "bee",
    "cat",
    "crane",
    "deer",
    "dove",
    "duck",
    "eel",
    "elk",
    "fox",
    "frog",
    "gull",
    "hare",
    "hawk",
    "hen",
    "ibis",
    "jay",
    "koi",
    "lark",
    "lynx",
    "mole",
    "moth",
    "newt",
    "owl",
    "puma",
    "ram",
    "seal",
    "slug",
    "swan",
    "toad",
    "vole",
    "wasp",
    "wolf",
    "yak",
)


def generate_run_name() -> str:
    """A friendly default name, like MLflow's ``bold-owl-417``."""
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(0, 999)}"


class RunStore:
    def __init__(self, db: Database, experiments: ExperimentStore) -> None:
        self.db = db
        self.experiments = experiments
        self.statistics = PlannerStatistics()

    # --- lifecycle -------------------------------------------------------------------

    def create(
        self,
        *,
        experiment_id: int,
        user_id: str,
        start_time: int | None,
        run_name: str | None,
        tags: Sequence[KeyValue],
    ) -> Run:
        validate_tags(tags)
        tag_map = {tag.key: tag.value for tag in tags}
        name = run_name or tag_map.get(RUN_NAME_TAG) or generate_run_name()
        validate_length(name, MAX_RUN_NAME_LENGTH, "run_name")
        tag_map[RUN_NAME_TAG] = name
        user_id = user_id or tag_map.get("mlflow.user", "")
        run_id = uuid.uuid4().hex
        status, start = RunStatus.RUNNING.value, start_time or now_ms()
        if self.db.dialect == "postgresql" and 0 <= experiment_id <= MAX_EXPERIMENT_ID:
            with self.db.write_statement() as conn:  # one statement, one round trip
                found = run_statements.create_run(
                    conn,
                    run_id=run_id,
                    experiment_id=experiment_id,
                    name=name,
                    user_id=user_id,
                    status=status,
                    start_time=start,
                    tags=tag_map,
                )
            location = active_location(experiment_id, found)
        else:
            with self.db.write() as conn:
                location = self.experiments.require_active(conn, experiment_id)
                conn.execute(
                    _INSERT_RUN,
                    {
                        "run_uuid": run_id,
                        "experiment_id": experiment_id,
                        "name": name,
                        "user_id": user_id,
                        "status": status,
                        "start_time": start,
                        "lifecycle_stage": "active",
                        "artifact_uri": _artifact_uri(location, run_id),
                    },
                )
                conn.execute(
                    _INSERT_TAG,
                    [{"run_uuid": run_id, "key": k, "value": v} for k, v in tag_map.items()],
                )
        info = RunInfo(
            run_id=run_id,
            experiment_id=experiment_id,
            run_name=name,
            user_id=user_id,
            status=status,
            start_time=start,
            end_time=None,
            artifact_uri=_artifact_uri(location, run_id),
            lifecycle_stage="active",
        )
        # A new run holds exactly what was just written: no need to read it back.
        return Run(info=info, tags=[KeyValue(k, tag_map[k]) for k in sorted(tag_map)])

    def get(self, run_id: str) -> Run:
        with self.db.read() as conn:
            found = self._load(conn, [run_id])
        if not found:
            raise ResourceDoesNotExist(f"Run with id={run_id} not found")
        return found[0]

    def get_many(self, run_ids: Sequence[str]) -> list[Run]:
        """The runs among ``run_ids`` that exist, in that order (missing ids are left out)."""
        with self.db.read() as conn:
            return self._load(conn, list(dict.fromkeys(run_ids)))

    def update(
        self, run_id: str, *, status: str | None, end_time: int | None, run_name: str | None
    ) -> RunInfo:
        values: dict[str, object] = {}
        if status:
            values["status"] = status
        if end_time is not None:
            values["end_time"] = end_time
        if run_name:
            validate_length(run_name, MAX_RUN_NAME_LENGTH, "run_name")
            values["name"] = run_name
        with self.db.write() as conn:
            self._lock_active(conn, run_id)
            if values:
                conn.execute(sa.update(runs).where(runs.c.run_uuid == run_id).values(**values))
            if run_name:
                _put_tags(conn, run_id, [KeyValue(RUN_NAME_TAG, run_name)])
            row = conn.execute(sa.select(runs).where(runs.c.run_uuid == run_id)).mappings().one()
            return _info(row)

    def delete(self, run_id: str) -> None:
        with self.db.write() as conn:
            self._lock(conn, run_id)
            conn.execute(
                sa.update(runs)
                .where(runs.c.run_uuid == run_id)
                .values(lifecycle_stage="deleted", deleted_time=now_ms())
            )

    def restore(self, run_id: str) -> None:
        with self.db.write() as conn:
            self._lock(conn, run_id)
            conn.execute(
                sa.update(runs)
                .where(runs.c.run_uuid == run_id)
                .values(lifecycle_stage="active", deleted_time=None)
            )

    # --- data ------------------------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[LoggedPoint] = (),
        params: Sequence[KeyValue] = (),
        tags: Sequence[KeyValue] = (),
    ) -> None:
        """Log metrics, params and tags atomically: all of them, or none on any error."""
        validate_batch_sizes(len(metrics), len(params), len(tags))
        validate_points(metrics)
        validate_params(params)
        validate_tags(tags)
        model_ids = sorted({point[4] for point in metrics if point[4]})
        pg = self.db.dialect == "postgresql"
        if pg and not model_ids and self._pg_log_batch(run_id, metrics, params, tags):
            return
        with self.db.write() as conn:
            experiment_id = self._lock_active(conn, run_id)
            if model_ids:
                _require_models_of_experiment(conn, run_id, experiment_id, model_ids)
            if params:
                _insert_params(conn, run_id, params)
            if tags:
                _put_tags(conn, run_id, tags)
            if metrics:
                insert_points(conn, self.db.dialect, run_id, metrics)

    def _pg_log_batch(
        self,
        run_id: str,
        metrics: Sequence[LoggedPoint],
        params: Sequence[KeyValue],
        tags: Sequence[KeyValue],
    ) -> bool:
        """PostgreSQL: the batch as one statement; ``False`` if it needs the general path
        (two values for one param key in the request, refused after the run's checks)."""
        if not (params or tags):
            with self.db.write_statement() as conn:  # one statement, one round trip
                stage = insert_points_if_active(conn, run_id, metrics)
            _require_found_active(run_id, stage)
            return True
        wanted = {param.key: param.value for param in params}
        if len(wanted) < len({(param.key, param.value) for param in params}):
            return False
        latest = {tag.key: tag.value for tag in tags}
        distinct_tags = [KeyValue(key, value) for key, value in latest.items()]
        # Params may be refused after the statement has run: then it must be undone.
        with (self.db.write if wanted else self.db.write_statement)() as conn:
            stage, changed = run_statements.log_batch(
                conn, run_id, metrics, wanted, distinct_tags, latest.get(RUN_NAME_TAG)
            )
            _require_found_active(run_id, stage)
            for key, value in wanted.items():
                if key in changed:
                    raise _param_changed(run_id, key, changed[key], value)
        return True

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        validate_tags([KeyValue(key, value)])
        if self.db.dialect == "postgresql":
            name = value if key == RUN_NAME_TAG else None
            with self.db.write_statement() as conn:  # one statement, one round trip
                stage = run_statements.put_tags(conn, run_id, [KeyValue(key, value)], name)
            _require_found_active(run_id, stage)
            return
        with self.db.write() as conn:
            self._lock_active(conn, run_id)
            _put_tags(conn, run_id, [KeyValue(key, value)])

    def record_model(self, run_id: str, model: dict[str, object]) -> None:
        """Append ``model`` (an MLmodel's summary) to the run's model-history tag.

        MLflow 2's ``runs/log-model``; MLflow 3 clients record models as logged models.
        """
        with self.db.write() as conn:
            self._lock_active(conn, run_id)
            previous = conn.execute(
                sa.select(run_tags.c.value).where(
                    run_tags.c.run_uuid == run_id, run_tags.c.key == LOGGED_MODELS_TAG
                )
            ).scalar()
            history = json.loads(previous) if previous else []
            tag = KeyValue(LOGGED_MODELS_TAG, json.dumps([*history, model]))
            validate_tags([tag])
            _put_tags(conn, run_id, [tag])

    def delete_tag(self, run_id: str, key: str) -> None:
        with self.db.write() as conn:
            self._lock_active(conn, run_id)
            deleted = conn.execute(
                sa.delete(run_tags).where(run_tags.c.run_uuid == run_id, run_tags.c.key == key)
            ).rowcount
            if not deleted:
                raise ResourceDoesNotExist(f"No tag with name: {key} in run with id {run_id}")

    def log_inputs(
        self, run_id: str, datasets: Sequence[DatasetInput], model_ids: Sequence[str] = ()
    ) -> None:
        for dataset_input in datasets:
            validate_tags(dataset_input.tags)
        with self.db.write() as conn:
            experiment_id = self._lock_active(conn, run_id)
            log_dataset_inputs(conn, run_id, experiment_id, datasets)
            _insert_missing(
                conn,
                run_model_inputs,
                {"run_uuid": run_id},
                [{"model_id": model_id} for model_id in dict.fromkeys(model_ids)],
                ("model_id",),
            )

    def log_outputs(self, run_id: str, outputs: Sequence[ModelOutput]) -> None:
        with self.db.write() as conn:
            self._lock_active(conn, run_id)
            _insert_missing(
                conn,
                run_model_outputs,
                {"run_uuid": run_id},
                [{"model_id": o.model_id, "step": o.step} for o in outputs],
                ("model_id",),
            )

    # --- search ----------------------------------------------------------------------

    def search(
        self,
        *,
        experiment_ids: Sequence[int],
        filter_string: str | None,
        view_type: ViewType,
        max_results: int | None,
        order_by: Sequence[str],
        page_token: str | None,
    ) -> Page[Run]:
        max_results = search.check_max_results(max_results, search.Target.RUNS)
        comparisons = search.parse_filter(filter_string, search.Target.RUNS)
        order_keys = search.parse_order_by(order_by, search.Target.RUNS)
        offset = search.decode_page_token(page_token)
        experiment_ids = possible_ids(experiment_ids)
        if not experiment_ids:
            return Page([])
        with self.db.read() as conn:
            statistics = self.statistics.present(conn)
            query = search.run_search_query(
                experiment_ids, view_type, comparisons, order_keys, planner_statistics=statistics
            )
            with contextlib.nullcontext() if statistics else indexes_preferred(conn):
                with planned_for_values(conn):
                    ids, token = search.fetch_page(
                        lambda q: list(conn.execute(q).scalars()), query, offset, max_results
                    )
                found = self._load(conn, ids)
        return Page(found, token)

    # --- helpers ---------------------------------------------------------------------

    def _lock(self, conn: Connection, run_id: str) -> tuple[str, int]:
        """The run's ``(lifecycle_stage, experiment_id)``, its row locked."""
        query = _RUN_STATE if self.db.is_sqlite else _RUN_STATE_FOR_UPDATE
        row = conn.execute(query, {"run_id": run_id}).first()
        if row is None:
            raise ResourceDoesNotExist(f"Run with id={run_id} not found")
        return row.lifecycle_stage, row.experiment_id

    def _lock_active(self, conn: Connection, run_id: str) -> int:
        """Lock the run row; returns its experiment id. Deleted runs are read-only."""
        stage, experiment_id = self._lock(conn, run_id)
        _require_active(run_id, stage)
        return experiment_id

    @staticmethod
    def _load(conn: Connection, run_ids: Sequence[str]) -> list[Run]:
        """Full runs for ``run_ids``, in that order, in two statements."""
        return run_pages.load_runs(conn, run_ids)


# The statements of every run write, built once: constructing a query per call cost
# more than running it (SQLite: 50 of 65 µs for the run's state).
_RUN_STATE = sa.select(runs.c.lifecycle_stage, runs.c.experiment_id).where(
    runs.c.run_uuid == sa.bindparam("run_id")
)
_RUN_STATE_FOR_UPDATE = _RUN_STATE.with_for_update()
_INSERT_RUN = sa.insert(runs)
_INSERT_TAG = sa.insert(run_tags)
_INSERT_PARAM = sa.insert(params)
_PARAMS_OF = sa.select(params.c.key, params.c.value).where(
    params.c.run_uuid == sa.bindparam("run_id"),
    params.c.key.in_(sa.bindparam("keys", expanding=True)),
)


def _artifact_uri(location: str, run_id: str) -> str:
    return f"{location.rstrip('/')}/{run_id}/artifacts"


def _require_found_active(run_id: str, stage: str | None) -> None:
    if stage is None:
        raise ResourceDoesNotExist(f"Run with id={run_id} not found")
    _require_active(run_id, stage)


def _require_active(run_id: str, stage: str) -> None:
    if stage != "active":
        raise InvalidParameterValue(
            f"The run {run_id} must be in the 'active' state. Current state is {stage}."
        )


def _info(row: sa.RowMapping) -> RunInfo:
    return RunInfo(
        run_id=row["run_uuid"],
        experiment_id=row["experiment_id"],
        run_name=row["name"],
        user_id=row["user_id"],
        status=row["status"],
        start_time=row["start_time"],
        end_time=row["end_time"],
        artifact_uri=row["artifact_uri"],
        lifecycle_stage=row["lifecycle_stage"],
    )


def _insert_params(conn: Connection, run_id: str, new_params: Sequence[KeyValue]) -> None:
    """Params are immutable: re-logging the same value is a no-op, a new value is a 400."""
    wanted: dict[str, str] = {}
    for param in new_params:
        if wanted.setdefault(param.key, param.value) != param.value:
            raise InvalidParameterValue(
                f"Duplicate parameter keys have been submitted: key='{param.key}' with "
                f"different values in the same request."
            )
    existing = dict(conn.execute(_PARAMS_OF, {"run_id": run_id, "keys": list(wanted)}).all())
    for key, value in wanted.items():
        if key in existing and existing[key] != value:
            raise _param_changed(run_id, key, existing[key], value)
    fresh = [
        {"run_uuid": run_id, "key": k, "value": v} for k, v in wanted.items() if k not in existing
    ]
    if fresh:
        conn.execute(_INSERT_PARAM, fresh)


def _param_changed(run_id: str, key: str, stored: str, value: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Changing param values is not allowed. Param with key='{key}' was already "
        f"logged with value='{stored}' for run ID='{run_id}'. Attempted logging "
        f"new param with key='{key}' and value='{value}'."
    )


def _put_tags(conn: Connection, run_id: str, tags: Sequence[KeyValue]) -> None:
    """Insert or overwrite run tags, keeping the run's name in step with its tag."""
    latest = key_values.put(conn, run_tags, "run_uuid", run_id, tags)
    if RUN_NAME_TAG in latest:
        conn.execute(
            sa.update(runs).where(runs.c.run_uuid == run_id).values(name=latest[RUN_NAME_TAG])
        )


def _insert_missing(
    conn: Connection,
    table: sa.Table,
    fixed: dict[str, object],
    rows: list[dict[str, object]],
    key_columns: tuple[str, ...],
) -> None:
    """Insert the rows whose key is not yet present (for idempotent links)."""
    if not rows:
        return
    conditions = [table.c[name] == value for name, value in fixed.items()]
    existing = {
        tuple(r)
        for r in conn.execute(sa.select(*(table.c[k] for k in key_columns)).where(*conditions))
    }
    fresh = [{**fixed, **row} for row in rows if tuple(row[k] for k in key_columns) not in existing]
    if fresh:
        conn.execute(sa.insert(table), fresh)


def _require_models_of_experiment(
    conn: Connection, run_id: str, experiment_id: int, model_ids: Sequence[str]
) -> None:
    """Metrics may name only logged models of the run's own experiment (as in MLflow).

    A model of another experiment gets the same answer as one that does not exist, so
    the error tells nothing about other experiments.
    """
    found = set(
        conn.execute(
            sa.select(logged_models.c.model_id).where(
                any_of(logged_models.c.model_id, model_ids),
                logged_models.c.experiment_id == experiment_id,
            )
        ).scalars()
    )
    for model_id in model_ids:
        if model_id not in found:
            raise ResourceDoesNotExist(
                f"Logged model with ID '{model_id}' not found in the experiment of run '{run_id}'."
            )
