"""An OTLP export of new traces is six statements however many traces it holds: the
lock read, the experiment check, then one insert each of traces, tags, spans and span
attributes, all in one transaction."""

from __future__ import annotations

import os
import uuid

import sqlalchemy as sa

from bench.scenarios.traces import BASE_NS, otlp_body
from service.http.otlp import _from_protobuf, _parse
from service.store import Store


def test_an_export_of_new_traces_is_six_statements(migrated_database) -> None:
    store = Store.over(migrated_database)
    experiment_id = store.experiments.create(f"ingest-{uuid.uuid4().hex[:10]}")
    trace_ids = [os.urandom(16) for _ in range(5)]
    body = otlp_body([(t, BASE_NS + i) for i, t in enumerate(trace_ids)], 3)
    records, roots = _parse(_from_protobuf(body))
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE"):
            seen.append(statement)

    sa.event.listen(store.db.engine, "before_cursor_execute", record)
    try:
        touched = store.traces.log_spans(experiment_id, records, roots)
    finally:
        sa.event.remove(store.db.engine, "before_cursor_execute", record)

    names = ["tr-" + t.hex() for t in trace_ids]
    assert touched == names
    assert len(seen) == 6, seen
    stored = store.traces.get_traces(names)
    assert [t.info.trace_id for t in stored] == names
    for trace in stored:
        assert len(trace.spans) == 3 and trace.info.state == "OK"
        assert trace.info.tags["mlflow.traceName"] == "root"
        assert trace.info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
        assert {s.trace_id for s in trace.spans} == {trace.info.trace_id}
    # A second export of the same spans replaces them (and completes nothing twice).
    store.traces.log_spans(experiment_id, records, roots)
    assert [len(t.spans) for t in store.traces.get_traces(names)] == [3] * 5
