"""Trace infos in two statements, whatever the page size: the trace rows, then one
``UNION ALL`` of the page's assessments, tags and metadata.

A page of 100 traces used to cost five round trips (ids, rows, tags, metadata,
assessments); search now reads the rows with the ids (``INFO_COLUMNS``) and everything
hanging off them in one more query.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from service.store.any_of import any_of
from service.store.db import AnyRow
from service.store.entities.traces import Assessment, TraceInfo
from service.store.tables import Trace, table_of

traces = table_of(Trace)

#: The columns of ``traces`` a TraceInfo is built from, in ``_info``'s order.
INFO_COLUMNS = (
    traces.c.trace_id,
    traces.c.experiment_id,
    traces.c.request_time,
    traces.c.execution_duration,
    traces.c.state,
    traces.c.client_request_id,
    traces.c.request_preview,
    traces.c.response_preview,
)

_ASSESSMENT, _TAG, _METADATA = 0, 1, 2


def load_infos(conn: Connection, trace_ids: Iterable[str]) -> list[TraceInfo]:
    """Live traces by id, with tags, metadata and assessments, in the order given."""
    ids = list(trace_ids)
    if not ids:
        return []
    rows = {
        row[0]: row
        for row in conn.execute(
            sa.select(*INFO_COLUMNS).where(
                any_of(traces.c.trace_id, ids), traces.c.deleted_time.is_(None)
            )
        )
    }
    return infos_of(conn, [rows[i] for i in ids if i in rows])


def infos_of(conn: Connection, rows: Sequence[AnyRow]) -> list[TraceInfo]:
    """TraceInfos of ``rows`` (``INFO_COLUMNS``), with what hangs off them, in one query."""
    if not rows:
        return []
    tags: dict[str, dict[str, str]] = {row[0]: {} for row in rows}
    metadata: dict[str, dict[str, str]] = {row[0]: {} for row in rows}
    found: dict[str, list[Assessment]] = {row[0]: [] for row in rows}
    for part, trace_id, key, value, *rest in _children(conn, list(tags)):
        if part == _TAG:
            tags[trace_id][key] = value
        elif part == _METADATA:
            metadata[trace_id][key] = value
        else:
            found[trace_id].append(_assessment(trace_id, key, value, *rest))
    return [
        TraceInfo(
            trace_id=row[0],
            experiment_id=row[1],
            request_time=row[2],
            execution_duration=row[3],
            state=row[4],
            client_request_id=row[5],
            request_preview=row[6],
            response_preview=row[7],
            tags=tags[row[0]],
            metadata=metadata[row[0]],
            assessments=found[row[0]],
        )
        for row in rows
    ]


@functools.lru_cache(maxsize=64)
def _children_sql(dialect: Dialect, count: int) -> str:
    """Assessments (oldest first), tags and metadata (by key) of ``count`` trace ids, as
    driver SQL: (part, trace id, key, value, then the assessment's other columns).

    Built by hand and cached per size: with SQLAlchemy's expanding ``IN`` the statement
    cost four times the query (1.6 against 0.4 ms for 100 traces on SQLite)."""
    key = dialect.identifier_preparer.quote("key")
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    ids = f"= ANY({mark})" if dialect.name == "postgresql" else f"IN ({', '.join([mark] * count)})"
    nulls = ", NULL" * 6
    return (
        f"SELECT {_ASSESSMENT} AS part, trace_id, assessment_id AS {key}, payload AS value, "
        "create_time, name, kind, valid, overrides, last_update_time "
        f"FROM assessments WHERE trace_id {ids} "
        f"UNION ALL SELECT {_TAG}, trace_id, {key}, value{nulls} FROM trace_tags "
        f"WHERE trace_id {ids} "
        f"UNION ALL SELECT {_METADATA}, trace_id, {key}, value{nulls} FROM trace_metadata "
        f"WHERE trace_id {ids} "
        f"ORDER BY part, create_time, {key}"
    )


def _children(conn: Connection, ids: list[str]) -> Sequence[AnyRow]:
    dialect = conn.dialect
    per_table: tuple[Any, ...] = (ids,) if dialect.name == "postgresql" else tuple(ids)
    return conn.exec_driver_sql(_children_sql(dialect, len(ids)), per_table * 3).fetchall()


def _assessment(
    trace_id: str,
    assessment_id: str,
    payload: str,
    create_time: int,
    name: str,
    kind: str,
    valid: Any,
    overrides: str | None,
    last_update_time: int,
) -> Assessment:
    return Assessment(
        assessment_id=assessment_id,
        trace_id=trace_id,
        name=name,
        kind=kind,
        valid=bool(valid),
        overrides=overrides,
        create_time=create_time,
        last_update_time=last_update_time,
        body=orjson.loads(payload),
    )
