"""Metric points: bulk inserts, the latest-value table, and paged history.

``metrics`` keeps every point; its primary key makes a retried insert a no-op.
``latest_metrics`` keeps one row per (run, key), the point with the greatest
(step, timestamp, value), so run pages and metric filters never scan history.
Callers hold the run's row lock, so the read-compare-write on ``latest_metrics`` is safe.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterator, Sequence
from typing import TypeAlias

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store import search
from service.store.db import Database
from service.store.entities import MetricPoint, Page
from service.store.tables import LatestMetric, Metric
from service.store.tables import Run as RunRow
from service.store.validation import storable_metric_value

metrics = Metric.__table__
latest_metrics = LatestMetric.__table__
runs = RunRow.__table__

NAN = float("nan")

#: One history point as the database returns it:
#: ``(key, value, is_nan, timestamp, step, model_id, dataset_name, dataset_digest)``.
#: A history can hold a million points; an entity object per point costs more than the
#: query itself, so history pages carry these plain tuples (see ``wire.metric_history``).
HistoryRow: TypeAlias = tuple[str, float, bool, int, int, str | None, str | None, str | None]
#: Points per chunk when a whole history is streamed (about 1.5 MB of JSON).
HISTORY_CHUNK = 20_000


@functools.cache
def _insert_ignoring_duplicates(dialect: str, table: sa.Table) -> sa.Insert:
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    if dialect == "mysql":
        return mysql.insert(table).prefix_with("IGNORE")
    return sa.insert(table)


_POINT_COLUMNS = (
    "run_uuid",
    "key",
    "step",
    "timestamp",
    "value",
    "is_nan",
    "model_id",
    "dataset_name",
    "dataset_digest",
)
_point_values = operator.itemgetter(*_POINT_COLUMNS)
_COLUMN_LIST = ", ".join(f'"{name}"' for name in _POINT_COLUMNS)
#: PostgreSQL: one INSERT over column arrays. psycopg would otherwise pipeline one INSERT
#: per row, about 30 µs each (a 1000-point batch spent 30 ms there).
_PG_APPEND = (
    f"INSERT INTO metrics ({_COLUMN_LIST}) SELECT * FROM unnest("
    "%s::varchar[], %s::varchar[], %s::bigint[], %s::bigint[], %s::float8[], %s::bool[], "
    "%s::varchar[], %s::varchar[], %s::varchar[]) ON CONFLICT DO NOTHING"
)
#: SQLite: the driver's executemany over tuples, without SQLAlchemy's per-row processing.
_SQLITE_APPEND = (
    f"INSERT INTO metrics ({_COLUMN_LIST}) VALUES ({', '.join('?' for _ in _POINT_COLUMNS)}) "
    "ON CONFLICT DO NOTHING"
)


def _append_points(conn: Connection, dialect: str, rows: list[dict[str, object]]) -> None:
    """Add rows to history; an exact duplicate (a retried request) is skipped."""
    if dialect == "postgresql":
        columns = zip(*map(_point_values, rows), strict=True)
        conn.exec_driver_sql(_PG_APPEND, tuple(list(column) for column in columns))
    elif dialect == "sqlite":
        conn.exec_driver_sql(_SQLITE_APPEND, list(map(_point_values, rows)))
    else:
        conn.execute(_insert_ignoring_duplicates(dialect, metrics), rows)


def _row(run_id: str, point: MetricPoint) -> dict[str, object]:
    value, is_nan = storable_metric_value(point.value)
    return {
        "run_uuid": run_id,
        "key": point.key,
        "step": point.step,
        "timestamp": point.timestamp,
        "value": value,
        "is_nan": is_nan,
        "model_id": point.model_id,
        "dataset_name": point.dataset_name,
        "dataset_digest": point.dataset_digest,
    }


_LATEST_VALUE_COLUMNS = (
    "step",
    "timestamp",
    "value",
    "is_nan",
    "model_id",
    "dataset_name",
    "dataset_digest",
)


@functools.cache
def _newer_point_wins(dialect: str) -> sa.Insert | None:
    """One upsert that moves each key's latest value forward, where the dialect has one.

    ``INSERT ... ON CONFLICT DO UPDATE ... WHERE (new order) >= (old order)``: the same
    rule as :func:`_order`, in one statement instead of a read plus an UPDATE per key.
    """
    if dialect not in ("postgresql", "sqlite"):
        return None
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(latest_metrics)
    new, old = insert.excluded, latest_metrics.c
    return insert.on_conflict_do_update(
        index_elements=[old.run_uuid, old.key],
        set_={name: new[name] for name in _LATEST_VALUE_COLUMNS},
        where=sa.tuple_(new.step, new.timestamp, new.is_nan, new.value)
        >= sa.tuple_(old.step, old.timestamp, old.is_nan, old.value),
    )


def _order(row: dict[str, object]) -> tuple:
    """The ordering that decides which point is "latest"."""
    return (row["step"], row["timestamp"], row["is_nan"], row["value"])


def insert_metrics(
    conn: Connection, dialect: str, run_id: str, points: Sequence[MetricPoint]
) -> None:
    """Append ``points`` to history and move each key's latest value forward if needed."""
    rows = [_row(run_id, point) for point in points]
    _append_points(conn, dialect, rows)

    newest: dict[str, dict[str, object]] = {}
    for row in rows:
        current = newest.get(row["key"])  # type: ignore[arg-type]
        if current is None or _order(row) >= _order(current):
            newest[row["key"]] = row  # type: ignore[index]
    upsert = _newer_point_wins(dialect)
    if upsert is not None:
        conn.execute(upsert, list(newest.values()))
        return
    existing = {
        r["key"]: dict(r)
        for r in conn.execute(
            sa.select(latest_metrics).where(
                latest_metrics.c.run_uuid == run_id, latest_metrics.c.key.in_(list(newest))
            )
        ).mappings()
    }
    inserts = [row for key, row in newest.items() if key not in existing]
    if inserts:
        conn.execute(sa.insert(latest_metrics), inserts)
    for key, row in newest.items():
        if key in existing and _order(row) >= _order(existing[key]):
            conn.execute(
                sa.update(latest_metrics)
                .where(latest_metrics.c.run_uuid == run_id, latest_metrics.c.key == key)
                .values({k: v for k, v in row.items() if k not in ("run_uuid", "key")})
            )


def _point(row: sa.Row, run_id: str | None = None) -> MetricPoint:
    return MetricPoint(
        key=row.key,
        value=NAN if row.is_nan else row.value,
        timestamp=row.timestamp,
        step=row.step,
        model_id=row.model_id,
        dataset_name=row.dataset_name,
        dataset_digest=row.dataset_digest,
        run_id=run_id,
    )


def load_latest_metrics(conn: Connection, run_ids: Sequence[str]) -> dict[str, list[MetricPoint]]:
    result: dict[str, list[MetricPoint]] = {}
    query = (
        sa.select(latest_metrics)
        .where(latest_metrics.c.run_uuid.in_(run_ids))
        .order_by(latest_metrics.c.run_uuid, latest_metrics.c.key)
    )
    for row in conn.execute(query):
        result.setdefault(row.run_uuid, []).append(_point(row))
    return result


class MetricStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def history(
        self, run_id: str, key: str, *, max_results: int | None, page_token: str | None
    ) -> Page[HistoryRow]:
        """Every point of ``key`` in ``run_id``, ordered by step then timestamp."""
        if max_results is not None and max_results < 1:
            raise InvalidParameterValue(
                f"Invalid value {max_results} for parameter 'max_results' supplied. It must be "
                "a positive integer"
            )
        offset = search.decode_page_token(page_token)
        query = _history_query(run_id, key).offset(offset)
        if max_results is not None:
            query = query.limit(max_results + 1)
        with self.db.read() as conn:
            _require_run(conn, run_id)
            # The driver's own tuples: SQLAlchemy's Row objects triple the cost of a long
            # history, and these columns need no type processing.
            rows: list[HistoryRow] = conn.execute(query).cursor.fetchall()
        more = max_results is not None and len(rows) > max_results
        if more:
            rows = rows[:max_results]
        token = search.encode_page_token(offset + len(rows)) if more else None
        return Page(rows, token)

    def history_chunks(
        self, run_id: str, key: str, chunk_size: int = HISTORY_CHUNK
    ) -> Iterator[Sequence[HistoryRow]]:
        """The whole history of ``key`` as consecutive chunks, from one snapshot.

        For answers without a page size, which may hold millions of points: the caller
        streams each chunk out before the next is read, so memory stays flat. The run is
        checked on the first ``next()``; closing the iterator early returns the connection.
        """
        query = _history_query(run_id, key)
        with self.db.read() as conn:
            if self.db.dialect == "postgresql":
                # Keyset pages are separate statements: one snapshot holds them together.
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            _require_run(conn, run_id)
            yield from _chunks(conn, query, chunk_size)


#: The history's order: the tail of the primary key, so every page is an index range scan.
HISTORY_ORDER = (metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan)


def _history_query(run_id: str, key: str) -> sa.Select:
    return (
        sa.select(
            metrics.c.key,
            metrics.c.value,
            metrics.c.is_nan,
            metrics.c.timestamp,
            metrics.c.step,
            metrics.c.model_id,
            metrics.c.dataset_name,
            metrics.c.dataset_digest,
        )
        .where(metrics.c.run_uuid == run_id, metrics.c.key == key)
        .order_by(*HISTORY_ORDER)
    )


def _chunks(conn: Connection, query: sa.Select, chunk_size: int) -> Iterator[Sequence[HistoryRow]]:
    """The rows of a history query in chunks, as the driver's own tuples."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        yield from _keyset_pages(conn, query, chunk_size)
        return
    if dialect == "sqlite":  # sqlite3 reads lazily: its own cursor is the fast path
        fetch = conn.execute(query).cursor.fetchmany
    else:  # a server-side cursor; SQLAlchemy buffers ahead of it, so read through it
        fetch = conn.execute(query.execution_options(stream_results=True)).fetchmany
    while rows := fetch(chunk_size):
        yield rows


def _keyset_pages(
    conn: Connection, query: sa.Select, chunk_size: int
) -> Iterator[Sequence[HistoryRow]]:
    """PostgreSQL: ``LIMIT``ed pages, each starting after the last row of the one before.

    Twice as fast as a server-side cursor, whose rows come through SQLAlchemy's buffer in
    small ``FETCH`` round trips, and the same with every driver (pg8000 behind the Cloud
    SQL connector, psycopg).
    """
    page = query.limit(chunk_size)
    after = page
    while rows := conn.execute(after).cursor.fetchall():
        yield rows
        if len(rows) < chunk_size:
            return
        _, value, is_nan, timestamp, step, *_ = rows[-1]
        after = page.where(sa.tuple_(*HISTORY_ORDER) > sa.tuple_(step, timestamp, value, is_nan))


def _require_run(conn: Connection, run_id: str) -> None:
    if conn.execute(sa.select(runs.c.run_uuid).where(runs.c.run_uuid == run_id)).first() is None:
        raise ResourceDoesNotExist(f"Run with id={run_id} not found")
