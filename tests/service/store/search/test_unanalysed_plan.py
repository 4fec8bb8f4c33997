"""Run search on PostgreSQL tables the planner has no statistics for, as after a bulk load.

Without statistics every row estimate is a row or two, and a plan chosen on that basis
once read every matching param and every ``acc`` metric of the database again for each
run: about 1,000 buffer reads per run. The check is the work the plan does (buffers
read, from ``EXPLAIN (ANALYZE, BUFFERS)``), not its time, and the answer must be the
one the same search gives once the tables are analysed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from service.store import Store, migrate, tables
from service.store.db import Database, create_database
from service.store.entities.tracking import ViewType
from service.store.search import Target, parse_filter, parse_order_by, run_search_query
from service.store.statistics import PlannerStatistics, indexes_preferred
from tests.support.backends import scratch_database

pytestmark = pytest.mark.needs_backend("postgresql")

RUNS = 1_000
FILTER = "metrics.acc > 0.5 and params.lr = '0.01'"
#: Param tests other than ``=``/``IN`` (an ``EXISTS`` probe of ``params`` before).
OTHER_FILTERS = ["params.lr LIKE '0.0%'", "params.lr != '0.1' and params.b IS NOT NULL"]
ORDER = ["metrics.acc DESC"]
#: Buffers a search may read per run of the experiment (the bad plan read about 1,000).
BUFFERS_PER_RUN = 10


@pytest.fixture(scope="module")
def unanalysed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, int]]:
    with scratch_database("postgresql", tmp_path_factory.mktemp("unanalysed")) as url:
        db = create_database(url)
        migrate.upgrade(db)
        with db.write() as conn:
            for name in ("runs", "params", "latest_metrics"):
                conn.exec_driver_sql(f"ALTER TABLE {name} SET (autovacuum_enabled = false)")
            experiment_id = _seed(conn)
        yield db, experiment_id
        db.dispose()


def _seed(conn: sa.Connection) -> int:
    t = tables.table_of
    experiment_id = conn.execute(
        sa.insert(t(tables.Experiment)).values(
            name="unanalysed",
            artifact_location="mem:/",
            lifecycle_stage="active",
            creation_time=1,
            last_update_time=1,
        )
    ).inserted_primary_key[0]
    rng = random.Random(20)
    ids = [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(RUNS)]
    conn.execute(
        sa.insert(t(tables.Run)),
        [
            {"run_uuid": i, "experiment_id": experiment_id, "start_time": n}
            for n, i in enumerate(ids)
        ],
    )
    lrs = ["0.1", "0.01", "0.001", "0.0001"]
    conn.execute(
        sa.insert(t(tables.Param)),
        [{"run_uuid": i, "key": k, "value": rng.choice(lrs)} for i in ids for k in ("lr", "b")],
    )
    conn.execute(
        sa.insert(t(tables.LatestMetric)),
        [
            {"run_uuid": i, "key": k, "step": 0, "timestamp": 0, "value": rng.random()}
            for i in ids
            for k in ("acc", "loss")
        ],
    )
    return int(experiment_id)


def _search(db: Database, experiment_id: int) -> list[str]:
    page = Store.over(db).runs.search(
        experiment_ids=[experiment_id],
        filter_string=FILTER,
        view_type=ViewType.ACTIVE_ONLY,
        max_results=100,
        order_by=ORDER,
        page_token=None,
    )
    return [run.info.run_id for run in page.items]


def _buffers(db: Database, experiment_id: int, filter_string: str = FILTER) -> int:
    with db.read() as conn:
        present = PlannerStatistics().present(conn)
        query = run_search_query(
            [experiment_id],
            ViewType.ACTIVE_ONLY,
            parse_filter(filter_string, Target.RUNS),
            parse_order_by(ORDER, Target.RUNS),
            planner_statistics=present,
        ).limit(100)
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        plan: dict[str, Any] = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql
        ).scalar_one()[0]["Plan"]
    return int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"])


def test_statistics_are_missing_until_analysed(unanalysed: tuple[Database, int]) -> None:
    db, _ = unanalysed
    with db.read() as conn:
        assert not PlannerStatistics().present(conn)


def test_search_reads_a_bounded_number_of_buffers_without_statistics(
    unanalysed: tuple[Database, int],
) -> None:
    db, experiment_id = unanalysed
    buffers = _buffers(db, experiment_id)
    assert buffers <= BUFFERS_PER_RUN * RUNS, f"{buffers} buffers for {RUNS} runs"


@pytest.mark.parametrize("filter_string", OTHER_FILTERS)
def test_other_param_tests_read_a_bounded_number_of_buffers(
    unanalysed: tuple[Database, int], filter_string: str
) -> None:
    db, experiment_id = unanalysed
    buffers = _buffers(db, experiment_id, filter_string)
    assert buffers <= BUFFERS_PER_RUN * RUNS, f"{filter_string}: {buffers} buffers"


def test_the_answer_is_the_one_after_analyse(unanalysed: tuple[Database, int]) -> None:
    db, experiment_id = unanalysed
    before = _search(db, experiment_id)
    assert len(before) == 100
    with db.write() as conn:
        conn.exec_driver_sql("ANALYZE")
    assert _search(db, experiment_id) == before
    with db.read() as conn:
        assert PlannerStatistics().present(conn)
    assert _buffers(db, experiment_id) <= BUFFERS_PER_RUN * RUNS


def test_indexes_preferred_holds_on_an_autocommit_read_and_is_put_back(
    unanalysed: tuple[Database, int],
) -> None:
    db, _ = unanalysed

    def seqscan(conn: sa.Connection) -> str:
        return str(conn.exec_driver_sql("SHOW enable_seqscan").scalar())

    with db.read() as conn:
        with indexes_preferred(conn):
            assert seqscan(conn) == "off"
        assert seqscan(conn) == "on"
