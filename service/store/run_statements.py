"""PostgreSQL: creating a run and setting its tags, each as one statement.

Data-modifying CTEs do the check and the writes together, so each runs alone in
autocommit (``Database.write_statement``): one round trip, committed before the answer.
The statements return what the checks read; the caller turns it into the same errors
as the transactional path the other databases take. Metric writes have theirs in
``metrics.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection

from service.store.entities import KeyValue

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

#: The run's row is locked (the order every run write takes) and its stage returned; the
#: tags are upserted, and the run's name follows its name tag, only if it is active.
_PUT_TAGS = """
WITH run AS (
    SELECT run_uuid, lifecycle_stage FROM runs WHERE run_uuid = %(run_id)s FOR UPDATE
), active AS (
    SELECT run_uuid FROM run WHERE lifecycle_stage = 'active'
), put AS (
    INSERT INTO run_tags (run_uuid, key, value)
    SELECT active.run_uuid, t.key, t.value
    FROM active, unnest(%(keys)s::varchar[], %(values)s::text[]) AS t(key, value)
    ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value
), renamed AS (
    UPDATE runs SET name = %(name)s FROM active
    WHERE runs.run_uuid = active.run_uuid AND %(name)s::varchar IS NOT NULL
)
SELECT lifecycle_stage FROM run
"""


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
    stage: str | None = conn.exec_driver_sql(
        _PUT_TAGS,
        {
            "run_id": run_id,
            "keys": [tag.key for tag in tags],
            "values": [tag.value for tag in tags],
            "name": name,
        },
    ).scalar()
    return stage
