"""PostgreSQL plans each search for its values, however often the same search comes back.

psycopg prepares a statement once it has run five times, and PostgreSQL plans a prepared
statement for its values five more times, then may keep one generic plan for every value.
That plan cannot know that ``model = 'm3'`` matches a tenth of the params while most param
values are unique: it started from the params, probing each match's metric and run, and
from the eleventh identical search on did 13 times the work (2,201 buffers against 170).
Each search statement is checked by the work PostgreSQL reports for it (``auto_explain``'s
buffers, sent to the client as notices), not by its time.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from service.store import Store, migrate, tables
from service.store.db import Database, create_database
from service.store.entities.tracking import ViewType
from tests.support.backends import scratch_database

pytestmark = pytest.mark.needs_backend("postgresql")

MODELS = [f"m{i}" for i in range(10)]
SEARCHES = 15


class Plans:
    """The buffers of each run-search statement, from ``auto_explain`` notices."""

    def __init__(self) -> None:
        self.buffers: list[int] = []

    def notice(self, diagnostic: Any) -> None:
        text = diagnostic.message_primary or ""
        start = text.find("{")
        if start < 0:
            return
        explained = json.loads(text[start:])
        if "IN (SELECT params.run_uuid" not in explained["Query Text"]:
            return  # the page's statements, not the search
        plan = explained["Plan"]
        self.buffers.append(int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"]))


@pytest.fixture(scope="module")
def explained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, int, Plans]]:
    with scratch_database("postgresql", tmp_path_factory.mktemp("plans")) as url:
        db = create_database(url, pool_size=1, max_overflow=0)
        migrate.upgrade(db)
        with db.write() as conn:
            small = _seed(conn)
        with db.write() as conn:
            conn.exec_driver_sql("ANALYZE")
        plans = Plans()

        @event.listens_for(db.engine, "connect")
        def _explain(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cursor:
                cursor.execute(
                    "LOAD 'auto_explain';"
                    " SET auto_explain.log_min_duration = 0;"
                    " SET auto_explain.log_analyze = on;"
                    " SET auto_explain.log_buffers = on;"
                    " SET auto_explain.log_timing = off;"
                    " SET auto_explain.log_format = json;"
                    " SET auto_explain.log_level = notice"
                )
            dbapi_conn.commit()
            dbapi_conn.add_notice_handler(plans.notice)

        db.engine.dispose()  # the next connection gets the listener
        yield db, small, plans
        db.dispose()


def _seed(conn: sa.Connection) -> int:
    """An experiment of 200 runs in a database of 4,000, each run with a model out of 10,
    a unique seed and two metrics."""
    t = tables.table_of
    rng = random.Random(7)
    experiments = []
    for name in ("small", "large"):
        experiments.append(
            conn.execute(
                sa.insert(t(tables.Experiment)).values(
                    name=name,
                    artifact_location="mem:/",
                    lifecycle_stage="active",
                    creation_time=1,
                    last_update_time=1,
                )
            ).inserted_primary_key[0]
        )
    runs = [
        (uuid.UUID(int=rng.getrandbits(128)).hex, experiments[0] if n < 200 else experiments[1])
        for n in range(4_000)
    ]
    conn.execute(
        sa.insert(t(tables.Run)),
        [{"run_uuid": r, "experiment_id": e, "start_time": n} for n, (r, e) in enumerate(runs)],
    )
    conn.execute(
        sa.insert(t(tables.Param)),
        [
            {"run_uuid": r, "key": key, "value": value}
            for n, (r, _) in enumerate(runs)
            for key, value in (("model", rng.choice(MODELS)), ("seed", str(n)))
        ],
    )
    conn.execute(
        sa.insert(t(tables.LatestMetric)),
        [
            {"run_uuid": r, "key": key, "step": 0, "timestamp": 0, "value": rng.random()}
            for r, _ in runs
            for key in ("acc", "loss")
        ],
    )
    return int(experiments[0])


def test_a_repeated_search_keeps_the_plan_made_for_its_values(
    explained: tuple[Database, int, Plans],
) -> None:
    db, experiment_id, plans = explained
    store = Store.over(db)
    answers = set()
    for _ in range(SEARCHES):
        page = store.runs.search(
            experiment_ids=[experiment_id],
            filter_string="metrics.acc > 0.5 and params.model = 'm3'",
            view_type=ViewType.ACTIVE_ONLY,
            max_results=5,
            order_by=["metrics.loss"],
            page_token=None,
        )
        answers.add(tuple(run.info.run_id for run in page.items))
    assert len(answers) == 1
    assert len(plans.buffers) == SEARCHES, plans.buffers
    first = plans.buffers[0]
    assert max(plans.buffers) <= 2 * first, f"buffers per search: {plans.buffers}"
