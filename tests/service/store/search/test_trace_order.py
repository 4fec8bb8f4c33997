"""The default trace order (newest first) reads the experiment's traces off
``ix_traces_experiment_request_time``: a page of the newest traces must not sort them all."""

from __future__ import annotations

from pathlib import Path

from service.store.db import create_database
from service.store.migrate import upgrade
from service.store.search import Target, parse_order_by
from service.store.search.traces import trace_search_query


def _plan(tmp_path: Path, order_by: list[str]) -> str:
    db = create_database(f"sqlite:///{tmp_path}/plan.db")
    upgrade(db)
    query = trace_search_query([1], [], parse_order_by(order_by, Target.TRACES)).limit(101)
    with db.read() as conn:
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
    db.dispose()
    return "\n".join(str(row[-1]) for row in rows)


def test_newest_first_uses_the_index_order(tmp_path: Path) -> None:
    for order_by in ([], ["timestamp_ms DESC"], ["timestamp_ms ASC"]):
        plan = _plan(tmp_path, order_by)
        assert "ix_traces_experiment_request_time" in plan
        # Only ties on the timestamp are sorted (by trace id), never the whole experiment.
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, (order_by, plan)


def test_nullable_order_keys_keep_nulls_last() -> None:
    query = trace_search_query([1], [], parse_order_by(["execution_time_ms"], Target.TRACES))
    assert "CASE WHEN" in str(query)
