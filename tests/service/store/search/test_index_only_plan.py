"""On PostgreSQL, run search's ``params.x = 'v'`` is answered from the params index alone.

The index of short values holds the plain columns, so once ``statistics.analyse`` has
vacuumed ``params`` (its visibility map set), the planner reads the matching params with
an index-only scan and visits no heap page for them. The check is the work the plan does
(``EXPLAIN (ANALYZE, BUFFERS)``: the scan's node, its heap fetches, the buffers), not time.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from service.store import migrate, tables
from service.store.db import Database, create_database
from service.store.entities.tracking import ViewType
from service.store.search import Target, parse_filter, parse_order_by, run_search_query
from service.store.statistics import analyse
from tests.support.backends import scratch_database

pytestmark = pytest.mark.needs_backend("postgresql")

RUNS = 2_000
MODELS = [f"m{i}" for i in range(10)]
ORDER = ["metrics.loss"]
SHORT_INDEX = "ix_params_key_short_value"
STATEMENT_TIMEOUT = "7s"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, int]]:
    with scratch_database("postgresql", tmp_path_factory.mktemp("index_only")) as url:
        db = create_database(url, statement_timeout=7)
        migrate.upgrade(db)
        with db.write() as conn:
            # Nothing but analyse may set the visibility map here.
            conn.exec_driver_sql("ALTER TABLE params SET (autovacuum_enabled = false)")
            experiment_id = _seed(conn)
        yield db, experiment_id
        db.dispose()


def _seed(conn: sa.Connection) -> int:
    t = tables.table_of
    experiment_id = conn.execute(
        sa.insert(t(tables.Experiment)).values(
            name="index-only",
            artifact_location="mem:/",
            lifecycle_stage="active",
            creation_time=1,
            last_update_time=1,
        )
    ).inserted_primary_key[0]
    rng = random.Random(9)
    ids = [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(RUNS)]
    conn.execute(
        sa.insert(t(tables.Run)),
        [
            {"run_uuid": i, "experiment_id": experiment_id, "start_time": n}
            for n, i in enumerate(ids)
        ],
    )
    conn.execute(
        sa.insert(t(tables.Param)),
        [
            {"run_uuid": i, "key": k, "value": v}
            for i in ids
            for k, v in (
                ("model", rng.choice(MODELS)),
                ("lr", str(rng.random())),
                ("notes", "n" * rng.randrange(200, 400)),  # long and short values mixed
            )
        ],
    )
    conn.execute(
        sa.insert(t(tables.LatestMetric)),
        [
            {"run_uuid": i, "key": "loss", "step": 0, "timestamp": 0, "value": rng.random()}
            for i in ids
        ],
    )
    return int(experiment_id)


def _plan(db: Database, experiment_id: int, filter_string: str) -> dict[str, Any]:
    query = run_search_query(
        [experiment_id],
        ViewType.ACTIVE_ONLY,
        parse_filter(filter_string, Target.RUNS),
        parse_order_by(ORDER, Target.RUNS),
    ).limit(100)
    with db.read() as conn:
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        plan: dict[str, Any] = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql.replace("%", "%%")
        ).scalar_one()[0]["Plan"]
    return plan


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _buffers(plan: dict[str, Any]) -> int:
    return int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"])


def test_analyse_on_an_autocommit_connection_vacuums_and_keeps_the_timeout(
    seeded: tuple[Database, int],
) -> None:
    db, _ = seeded
    with db.read() as conn:
        analyse(conn)
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == STATEMENT_TIMEOUT
        pages, visible = conn.exec_driver_sql(
            "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'params'"
        ).one()
    assert pages > 0 and visible == pages


def test_param_equality_is_an_index_only_scan(seeded: tuple[Database, int]) -> None:
    db, experiment_id = seeded
    with db.read() as conn:
        analyse(conn)
    plan = _plan(db, experiment_id, "params.model = 'm3'")
    scans = [n for n in _nodes(plan) if n.get("Index Name") == SHORT_INDEX]
    assert [n["Node Type"] for n in scans] == ["Index Only Scan"], plan
    matching = sum(int(n["Actual Rows"]) * int(n["Actual Loops"]) for n in scans)
    assert matching > RUNS // 20, plan  # about a tenth of the runs have m3
    assert sum(int(n["Heap Fetches"]) for n in scans) <= matching // 20, plan
    # Every matching param from the heap would be one buffer each, or nearly.
    assert _buffers(plan) < RUNS // 2, plan


def test_a_param_in_list_is_an_index_only_scan(seeded: tuple[Database, int]) -> None:
    db, experiment_id = seeded
    with db.read() as conn:
        analyse(conn)
    plan = _plan(db, experiment_id, "params.model IN ('m3', 'm5')")
    scans = [n for n in _nodes(plan) if n.get("Index Name") == SHORT_INDEX]
    assert [n["Node Type"] for n in scans] == ["Index Only Scan"], plan
    assert sum(int(n["Heap Fetches"]) for n in scans) <= RUNS // 100, plan


def test_long_values_are_found_through_the_prefix_index(seeded: tuple[Database, int]) -> None:
    db, experiment_id = seeded
    with db.read() as conn:
        analyse(conn)
        wanted = conn.exec_driver_sql(
            "SELECT value FROM params WHERE key = 'notes' AND length(value) = 300 LIMIT 1"
        ).scalar_one()
        expected = conn.exec_driver_sql(
            f"SELECT count(*) FROM params WHERE key = 'notes' AND value = '{wanted}'"
        ).scalar_one()
    plan = _plan(db, experiment_id, f"params.notes IN ('{wanted}', 'n')")
    assert int(plan["Actual Rows"]) == min(expected, 100)
    assert any(n.get("Index Name") == "ix_params_key_long_value" for n in _nodes(plan)), plan
