"""A page of trace infos costs two statements on every database, whatever its size: the
trace rows, then their assessments, tags and metadata together, each in its order."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from service.store import Store
from service.store.entities.traces import TraceInfo


@pytest.fixture
def store(migrated_database) -> Store:
    return Store.over(migrated_database)


@pytest.fixture
def statements(store: Store) -> Iterator[list[str]]:
    """Every statement the engine sends, but transaction control."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE"):
            seen.append(statement)

    sa.event.listen(store.db.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(store.db.engine, "before_cursor_execute", record)


def _trace(store: Store, experiment_id: int, index: int) -> str:
    trace_id = f"tr-{uuid.uuid4().hex}"
    store.traces.start_trace(
        TraceInfo(
            trace_id=trace_id,
            experiment_id=experiment_id,
            request_time=1_700_000_000_000 + index,
            execution_duration=5,
            state="OK",
            request_preview=f"in {index}",
            tags={"zeta": str(index), "alpha": "a", "mlflow.traceName": f"t{index}"},
            metadata={"mlflow.sourceRun": "r" * 32, "b.key": str(index)},
        )
    )
    return trace_id


def test_search_pages_take_two_statements(store: Store, statements: list[str]) -> None:
    experiment_id = store.experiments.create(f"infos-{uuid.uuid4().hex[:10]}")
    ids = [_trace(store, experiment_id, i) for i in range(3)]
    first = store.assessments.create(
        ids[2], name="quality", kind="feedback", body={"feedback": {"value": 0.5}}
    )
    second = store.assessments.create(
        ids[2], name="answer", kind="expectation", body={"expectation": {"value": "x"}}
    )

    for page_size in (3, 2, 3):  # statements are cached per page size
        statements.clear()
        page = store.traces.search(
            [experiment_id], filter_string=None, order_by=[], max_results=page_size, page_token=None
        )
        assert len(statements) == 2, statements
        assert [i.trace_id for i in page.items] == ids[::-1][:page_size]

    newest = page.items[0]
    assert list(newest.tags) == sorted(newest.tags)
    assert newest.tags["zeta"] == "2" and newest.tags["mlflow.traceName"] == "t2"
    assert newest.metadata == {"b.key": "2", "mlflow.sourceRun": "r" * 32}
    assert [a.assessment_id for a in newest.assessments] == [
        first.assessment_id,
        second.assessment_id,
    ]
    assert newest.assessments[0].body == {"feedback": {"value": 0.5}}
    assert newest.assessments[0].valid is True and newest.request_preview == "in 2"
    assert page.items[1].assessments == [] and page.items[1].metadata["b.key"] == "1"
    assert store.traces.get_info(ids[2]) == newest
