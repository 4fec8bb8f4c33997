"""PostgreSQL: creating a run, setting its tags and logging a batch, each as one statement.

Data-modifying CTEs do the check and the writes together, so each can run alone in
autocommit (``Database.write_statement``): one round trip, committed before the answer.
The statements return what the checks read; the caller turns it into the same errors
as the transactional path the other databases take. A batch with params is the
exception: a param logged before with another value refuses the whole batch once the
statement has run, so it runs inside a transaction (three round trips). Metric points
alone have their statement in ``metrics.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection

from service.store.entities.common import KeyValue
from service.store.entities.tracking import LoggedPoint
from service.store.metrics import PG_POINT_CTES, pg_point_parameters

#: The experiment's row (its stage and location); the run and its tags go in only if it
#: is active. The artifact URI is built as ``RunStore.create`` builds it in Python.
_CREATE_RUN = """
WITH experiment AS (
    SELECT artifact_location, lifecycle_stage FROM experiments
    WHERE experiment_id = %(experiment_id)s
), run AS (
    INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time,
                      lifecycle_stage, artifact_uri)
    SELECT %(run_uuid)s, %(experiment_id)s, %(name)s, %(user_id)s, %(status)s,
           %(start_time)s, 'active', rtrim(artifact_location, '/') || %(artifact_suffix)s
    FROM experiment WHERE lifecycle_stage = 'active'
    RETURNING run_uuid
), tags AS (
    INSERT INTO run_tags (run_uuid, key, value)
    SELECT run.run_uuid, t.key, t.value
    FROM run, unnest(%(keys)s::varchar[], %(values)s::text[]) AS t(key, value)
)
SELECT artifact_location, lifecycle_stage FROM experiment
"""

#: The run's row locked (the order every run write takes) and, if it is active, as
#: ``active``; then the tags of two array parameters upserted, and the run's name set
#: from a parameter that is not null (it follows its name tag).
_RUN_LOCKED = (
    "run AS (SELECT run_uuid, lifecycle_stage FROM runs WHERE run_uuid = %s FOR UPDATE), "
    "active AS (SELECT run_uuid FROM run WHERE lifecycle_stage = 'active')"
)
_TAGS_PUT = (
    "put AS (INSERT INTO run_tags (run_uuid, key, value) "
    "SELECT active.run_uuid, t.key, t.value "
    "FROM active, unnest(%s::varchar[], %s::text[]) AS t(key, value) "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value), "
    "renamed AS (UPDATE runs SET name = %s FROM active "
    "WHERE runs.run_uuid = active.run_uuid AND %s::varchar IS NOT NULL)"
)
_PUT_TAGS = f"WITH {_RUN_LOCKED}, {_TAGS_PUT} SELECT lifecycle_stage FROM run"

#: A whole log-batch. Params are immutable: a key already logged keeps its row (the
#: no-op update returns the stored value, the newest committed one even under a race),
#: and the statement returns ``key -> stored value`` of those that differ from the wanted
#: one, for the caller to refuse (and roll back) the whole batch.
_LOG_BATCH = (
    f"WITH {_RUN_LOCKED}, "
    "given AS (SELECT * FROM unnest(%s::varchar[], %s::text[]) AS g(key, value)), "
    "kept AS (INSERT INTO params (run_uuid, key, value) "
    "SELECT active.run_uuid, given.key, given.value FROM active, given "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = params.value RETURNING key, value), "
    f"{_TAGS_PUT}, {{points}} "
    "SELECT lifecycle_stage, (SELECT json_object_agg(kept.key, kept.value) "
    "FROM kept JOIN given USING (key) WHERE kept.value <> given.value) FROM run"
)
_LOG_BATCHES = {one: _LOG_BATCH.format(points=ctes) for one, ctes in PG_POINT_CTES.items()}


def create_run(
    conn: Connection,
    *,
    run_id: str,
    experiment_id: int,
    name: str,
    user_id: str,
    status: str,
    start_time: int,
    tags: dict[str, str],
) -> tuple[str, str] | None:
    """Insert the run and its tags if the experiment is active.

    Returns the experiment's ``(artifact_location, lifecycle_stage)``, or ``None`` if there
    is no such experiment; nothing is written unless the stage is ``"active"``.
    """
    row = conn.exec_driver_sql(
        _CREATE_RUN,
        {
            "experiment_id": experiment_id,
            "run_uuid": run_id,
            "name": name,
            "user_id": user_id,
            "status": status,
            "start_time": start_time,
            "artifact_suffix": f"/{run_id}/artifacts",
            "keys": list(tags),
            "values": list(tags.values()),
        },
    ).first()
    return None if row is None else (row.artifact_location, row.lifecycle_stage)


def put_tags(
    conn: Connection, run_id: str, tags: Sequence[KeyValue], name: str | None
) -> str | None:
    """Insert or overwrite ``tags`` (distinct keys) and set the run's name if ``name``,
    when the run is active. Returns its lifecycle stage, ``None`` if there is no such run."""
    parameters = (run_id, *_tag_parameters(tags, name))
    stage: str | None = conn.exec_driver_sql(_PUT_TAGS, parameters).scalar()
    return stage


def log_batch(
    conn: Connection,
    run_id: str,
    points: Sequence[LoggedPoint],
    params: dict[str, str],
    tags: Sequence[KeyValue],
    name: str | None,
) -> tuple[str | None, dict[str, str]]:
    """Log ``points``, ``params`` and ``tags`` (distinct keys; ``name`` the run's new name
    if they rename it) if the run is active.

    Returns the run's lifecycle stage (``None``: no such run) and the params that were
    already logged with another value (``key -> stored value``): if there are any, the
    caller must roll back, as the rest of the batch went in.
    """
    parameters = (
        run_id,
        list(params),
        list(params.values()),
        *_tag_parameters(tags, name),
        *pg_point_parameters(run_id, points),
    )
    row = conn.exec_driver_sql(_LOG_BATCHES[len(points) == 1], parameters).first()
    if row is None:
        return None, {}
    return row[0], row[1] or {}


def _tag_parameters(tags: Sequence[KeyValue], name: str | None) -> list[object]:
    return [[tag.key for tag in tags], [tag.value for tag in tags], name, name]
