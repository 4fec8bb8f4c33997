"""Seeding many traces into both schemas with direct SQL, by cloning one real trace.

Exporting 100,000 traces through ``mlflow server``'s OTLP endpoint takes longer than a
benchmark run has. So one template trace goes in through ``POST /v1/traces`` (each
server stores it its own way), and then every row that belongs to it, in any table with
a ``trace_id`` or ``request_id`` column, is copied once per new trace: the template's id
replaced by the new one in every text value (hex, ``tr-``-prefixed or base64), and every
time within a minute after the template's start moved by the new trace's offset
(milliseconds, or nanoseconds for span times). Both servers get the same ids and times;
each keeps its own layout, computed columns left to the database. Span contents keep the
template's times: search never reads them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from typing import Any

from bench.seed import Writer
from bench.servers import DatabaseSpec

TRACE_ID_COLUMNS = ("trace_id", "request_id")
WINDOW_MS = 60_000
#: Tables others refer to, in insertion order (Stratus and mlflow names).
PARENTS = ("traces", "trace_info", "spans")


def table_columns(db: DatabaseSpec) -> dict[str, list[str]]:
    """``table -> columns`` a row can be inserted with (generated ones left out), for the
    tables that belong to traces, parents first."""
    conn = db.connect()
    try:
        found: dict[str, list[str]] = {}
        if db.kind == "sqlite":
            names = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for name in names:
                # table_xinfo's last field: 2 and 3 are generated columns.
                rows = conn.execute(f'PRAGMA table_xinfo("{name}")').fetchall()
                found[name] = [r[1] for r in rows if r[6] not in (2, 3)]
        else:
            rows = conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND is_generated = 'NEVER' "
                "ORDER BY table_name, ordinal_position"
            ).fetchall()
            for name, column in rows:
                found.setdefault(name, []).append(column)
    finally:
        conn.close()
    owned = [name for name, columns in found.items() if any(c in TRACE_ID_COLUMNS for c in columns)]
    # Parents before children, for the foreign keys: the trace, its spans, the rest.
    owned.sort(key=lambda name: (PARENTS.index(name) if name in PARENTS else len(PARENTS), name))
    return {name: found[name] for name in owned}


def clone_trace(
    db: DatabaseSpec, template: str, traces: Sequence[tuple[str, int]], start_ms: int
) -> int:
    """Copy trace ``template`` (requested at ``start_ms``) once per ``(trace id, request
    time ms)`` of ``traces``. Returns the number of rows written."""
    tables = table_columns(db)
    mark = "?" if db.kind == "sqlite" else "%s"
    conn = db.connect()
    try:
        rows: dict[str, list[tuple[Any, ...]]] = {}
        for table, columns in tables.items():
            id_column = next(c for c in columns if c in TRACE_ID_COLUMNS)
            names = ", ".join(f'"{c}"' for c in columns)
            rows[table] = conn.execute(
                f'SELECT {names} FROM "{table}" WHERE "{id_column}" = {mark}', (template,)
            ).fetchall()
    finally:
        conn.close()
    written = 0
    with Writer(db) as writer:
        for table, columns in tables.items():
            if rows[table]:
                template_rows = rows[table]
                writer.put(
                    table,
                    tuple(f'"{c}"' for c in columns),
                    _copies(template_rows, template, traces, start_ms),
                )
                written += len(template_rows) * len(traces)
    return written


def _copies(
    rows: list[tuple[Any, ...]], template: str, traces: Sequence[tuple[str, int]], start_ms: int
) -> Iterator[tuple[Any, ...]]:
    old = _spellings(template)
    for trace_id, request_ms in traces:
        new = _spellings(trace_id)
        delta = request_ms - start_ms
        for row in rows:
            yield tuple(_moved(value, old, new, start_ms, delta) for value in row)


def _spellings(trace_id: str) -> list[str]:
    """A trace id as it appears in stored text: ``tr-<hex>``, bare hex, OTLP JSON base64."""
    hex_id = trace_id.removeprefix("tr-")
    return [trace_id, hex_id, base64.b64encode(bytes.fromhex(hex_id)).decode()]


def _moved(value: Any, old: list[str], new: list[str], start_ms: int, delta: int) -> Any:
    if isinstance(value, str):
        for before, after in zip(old, new, strict=True):
            value = value.replace(before, after)
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    if start_ms <= value < start_ms + WINDOW_MS:
        return value + delta
    if start_ms * 1_000_000 <= value < (start_ms + WINDOW_MS) * 1_000_000:
        return value + delta * 1_000_000
    return value
