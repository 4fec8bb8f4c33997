"""Metric points: bulk inserts, the latest-value table, and paged history.

``metrics`` keeps every point; its primary key makes a retried insert a no-op.
``latest_metrics`` keeps one row per (run, key), the point with the greatest
(step, timestamp, value), so run pages and metric filters never scan history.
Callers hold the run's row lock, so the read-compare-write on ``latest_metrics`` is safe.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from typing import TypeAlias

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store import search
from service.store.any_of import any_of
from service.store.db import AnySelect, Database
from service.store.entities.common import Page
from service.store.entities.tracking import LoggedPoint, MetricPoint
from service.store.tables import LatestMetric, Metric, table_of
from service.store.tables import Run as RunRow
from service.store.validation import MAX_DOUBLE, storable_metric_value

metrics = table_of(Metric)
latest_metrics = table_of(LatestMetric)
runs = table_of(RunRow)


#: One history point as the database returns it:
#: ``(key, value, is_nan, timestamp, step, model_id, dataset_name, dataset_digest)``.
#: A history can hold a million points; an entity object per point costs more than the
#: query itself, so history pages carry these plain tuples (see ``wire.metric_history``).
HistoryRow: TypeAlias = tuple[str, float, bool, int, int, str | None, str | None, str | None]
#: Points per chunk when a whole history is streamed (about 1.5 MB of JSON).
HISTORY_CHUNK = 20_000


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
#: One row of ``metrics`` (and of ``latest_metrics``), in ``_POINT_COLUMNS`` order.
PointRow: TypeAlias = tuple[str, str, int, int, float, bool, str | None, str | None, str | None]
_COLUMN_LIST = ", ".join(f'"{name}"' for name in _POINT_COLUMNS)
_PLACEHOLDERS = ", ".join("?" for _ in _POINT_COLUMNS)
#: The latest value moves forward only: ``ON CONFLICT DO UPDATE ... WHERE`` new >= old in
#: the order of :data:`_order`, one statement instead of a read plus an UPDATE per key.
_NEWER_WINS = (
    'ON CONFLICT ("run_uuid", "key") DO UPDATE SET '
    + ", ".join(f'"{name}" = excluded."{name}"' for name in _POINT_COLUMNS[2:])
    + " WHERE (excluded.step, excluded.timestamp, excluded.is_nan, excluded.value)"
    " >= (latest_metrics.step, latest_metrics.timestamp, latest_metrics.is_nan,"
    " latest_metrics.value)"
)
#: SQLite: the driver's executemany over tuples, without SQLAlchemy's per-row processing.
_SQLITE_APPEND = (
    f"INSERT INTO metrics ({_COLUMN_LIST}) VALUES ({_PLACEHOLDERS}) ON CONFLICT DO NOTHING"
)
_SQLITE_LATEST = (
    f"INSERT INTO latest_metrics ({_COLUMN_LIST}) VALUES ({_PLACEHOLDERS}) {_NEWER_WINS}"
)
#: PostgreSQL: points as column arrays (psycopg would otherwise pipeline one INSERT per
#: row, about 30 µs each), history and latest values in one statement: one round trip.
#: ``run`` is a CTE giving the run's id and lifecycle stage; points go in only if active.
_PG_ARRAYS = (
    "unnest(%s::varchar[], %s::bigint[], %s::bigint[], %s::float8[], %s::bool[], "
    "%s::varchar[], %s::varchar[], %s::varchar[]) AS p"
)
#: A single point (log-metric) as a row of values: adapting sixteen one-element arrays
#: cost psycopg more than the whole statement (0.39 -> 0.27 ms of CPU per call).
_PG_ONE_ROW = (
    "(VALUES (%s::varchar, %s::bigint, %s::bigint, %s::float8, %s::bool, "
    "%s::varchar, %s::varchar, %s::varchar)) AS p"
)
_PG_GIVEN_RUN = "run AS (SELECT %s::varchar AS run_uuid, 'active' AS lifecycle_stage)"
#: The run's row is locked first (a fixed lock order for concurrent writers of one run).
_PG_LOCKED_RUN = (
    "run AS (SELECT run_uuid, lifecycle_stage FROM runs WHERE run_uuid = %s FOR UPDATE)"
)


def _pg_point_ctes(points: str) -> str:
    """The CTEs that append ``points`` to history and move latest values, for the run of
    a CTE named ``active`` (none if it is empty)."""
    return (
        f"appended AS (INSERT INTO metrics ({_COLUMN_LIST}) SELECT active.run_uuid, p.* "
        f"FROM active, {points} ON CONFLICT DO NOTHING), "
        f"moved AS (INSERT INTO latest_metrics ({_COLUMN_LIST}) SELECT active.run_uuid, p.* "
        f"FROM active, {points} {_NEWER_WINS})"
    )


def _pg_write(run: str, points: str) -> str:
    return (
        f"WITH {run}, active AS (SELECT run_uuid FROM run WHERE lifecycle_stage = 'active'), "
        f"{_pg_point_ctes(points)} SELECT lifecycle_stage FROM run"
    )


#: ``(run CTE, one point?) -> statement``
_PG_WRITES = {
    (run, one): _pg_write(run, _PG_ONE_ROW if one else _PG_ARRAYS)
    for run in (_PG_GIVEN_RUN, _PG_LOCKED_RUN)
    for one in (False, True)
}

#: The ordering that decides which point is "latest": (step, timestamp, is_nan, value).
_order = operator.itemgetter(2, 3, 5, 4)


def _rows(run_id: str, points: Sequence[LoggedPoint]) -> list[PointRow]:
    """Points as table rows: NaN stored as 0 with its flag, ±inf clamped (see validation)."""
    rows: list[PointRow] = []
    append = rows.append
    for key, value, timestamp, step, model_id, dataset_name, digest in points:
        if -MAX_DOUBLE <= value <= MAX_DOUBLE:  # false for NaN and ±inf
            stored, is_nan = value, False
        else:
            stored, is_nan = storable_metric_value(value)
        append((run_id, key, step, timestamp, stored, is_nan, model_id, dataset_name, digest))
    return rows


def _newest(rows: list[PointRow]) -> list[PointRow]:
    """The latest row per key, keys in sorted order (a fixed lock order for upserts)."""
    newest: dict[str, PointRow] = {}
    for row in rows:
        current = newest.get(row[1])
        if current is None or _order(row) >= _order(current):
            newest[row[1]] = row
    return [newest[key] for key in sorted(newest)]


def _pg_write_points(conn: Connection, run: str, run_id: str, rows: list[PointRow]) -> str | None:
    """Run a ``_PG_WRITES`` statement; returns the run's lifecycle stage (``None``: no run)."""
    parameters = (run_id, *_pg_point_parameters(rows))
    return conn.exec_driver_sql(_PG_WRITES[run, len(rows) == 1], parameters).scalar()


def _pg_point_parameters(rows: list[PointRow]) -> list[object]:
    """The parameters of :func:`_pg_point_ctes` for ``rows`` (one point: a row of values)."""
    if len(rows) == 1:
        values = rows[0][1:]
        return [*values, *values]
    return [*_arrays(rows), *_arrays(_newest(rows))]


#: PostgreSQL, for a statement that writes more than points (``run_statements``): the
#: CTEs ``appended`` and ``moved``, for the run of a CTE named ``active``, by "exactly one
#: point?"; :func:`pg_point_parameters` gives their parameters.
PG_POINT_CTES = {one: _pg_point_ctes(_PG_ONE_ROW if one else _PG_ARRAYS) for one in (False, True)}


def pg_point_parameters(run_id: str, points: Sequence[LoggedPoint]) -> list[object]:
    """The positional (``%s``) parameters of ``PG_POINT_CTES[len(points) == 1]``."""
    return _pg_point_parameters(_rows(run_id, points))


def _arrays(rows: list[PointRow]) -> list[list[object]]:
    """The columns of ``rows`` as lists, but the run id's."""
    columns = list(zip(*rows, strict=True)) or [()] * len(_POINT_COLUMNS)
    return [list(column) for column in columns[1:]]


def insert_points(
    conn: Connection, dialect: str, run_id: str, points: Sequence[LoggedPoint]
) -> None:
    """Append ``points`` to history and move each key's latest value forward if needed.

    An exact duplicate of a stored point (a retried request) is skipped. The caller has
    checked the run (and, but on SQLite, holds its row lock).
    """
    rows = _rows(run_id, points)
    if dialect == "postgresql":
        _pg_write_points(conn, _PG_GIVEN_RUN, run_id, rows)
    elif dialect == "sqlite":
        conn.exec_driver_sql(_SQLITE_APPEND, rows)
        conn.exec_driver_sql(_SQLITE_LATEST, _newest(rows))
    else:
        conn.execute(mysql.insert(metrics).prefix_with("IGNORE"), _dicts(rows))
        _move_latest_by_reading(conn, run_id, _newest(rows))


def insert_points_if_active(
    conn: Connection, run_id: str, points: Sequence[LoggedPoint]
) -> str | None:
    """PostgreSQL: lock the run and, if it is active, do :func:`insert_points`, all in one
    statement (one round trip instead of three). Returns the run's lifecycle stage, or
    ``None`` if there is no such run; nothing is written unless it is ``"active"``."""
    rows = _rows(run_id, points)
    return _pg_write_points(conn, _PG_LOCKED_RUN, run_id, rows)


def insert_metrics(
    conn: Connection, dialect: str, run_id: str, points: Sequence[MetricPoint]
) -> None:
    """:func:`insert_points` for entity points (imports, logged models)."""
    insert_points(conn, dialect, run_id, [point.logged() for point in points])


def _dicts(rows: list[PointRow]) -> list[dict[str, object]]:
    return [dict(zip(_POINT_COLUMNS, row, strict=True)) for row in rows]


def _move_latest_by_reading(conn: Connection, run_id: str, newest: list[PointRow]) -> None:
    """Without an upsert that can compare (MySQL): read the current values, then write.

    The caller holds the run's row lock, so nothing moves in between.
    """
    c = latest_metrics.c
    keys = [row[1] for row in newest]
    query = sa.select(c.key, c.step, c.timestamp, c.is_nan, c.value).where(
        c.run_uuid == run_id, c.key.in_(keys)
    )
    current = {key: tuple(order) for key, *order in conn.execute(query)}
    fresh = [row for row in newest if row[1] not in current]
    if fresh:
        conn.execute(sa.insert(latest_metrics), _dicts(fresh))
    for row in newest:
        if row[1] in current and _order(row) >= current[row[1]]:
            conn.execute(
                sa.update(latest_metrics)
                .where(c.run_uuid == run_id, c.key == row[1])
                .values(dict(zip(_POINT_COLUMNS[2:], row[2:], strict=True)))
            )


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
        with self.db.read() as conn:
            _require_run(conn, run_id)

            def fetch(query: AnySelect) -> list[HistoryRow]:
                # The driver's own tuples: SQLAlchemy's Row objects triple the cost of a
                # long history, and these columns need no type processing.
                return list(conn.execute(query).cursor.fetchall())

            rows, token = search.fetch_page(fetch, _history_query(run_id, key), offset, max_results)
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

    def histories(
        self, run_ids: Sequence[str], key: str, *, max_results: int
    ) -> list[tuple[str, HistoryRow]]:
        """``key``'s points in several runs, as ``(run_id, row)``: MLflow's bulk history.

        Ordered by run id, then timestamp, step and value; at most ``max_results`` in
        all. Unknown runs contribute nothing (MLflow does not check them either).
        """
        query = (
            sa.select(metrics.c.run_uuid, *HISTORY_COLUMNS)
            .where(any_of(metrics.c.run_uuid, run_ids), metrics.c.key == key)
            .order_by(metrics.c.run_uuid, metrics.c.timestamp, metrics.c.step, metrics.c.value)
            .limit(max_results)
        )
        with self.db.read() as conn:
            return [(row[0], tuple(row[1:])) for row in conn.execute(query).cursor.fetchall()]

    def sampled_history(
        self, run_id: str, key: str, *, max_results: int, steps: tuple[int, int] | None
    ) -> list[HistoryRow]:
        """At most ``max_results`` points of ``key`` spread evenly over the run's history.

        MLflow's sampling, row for row: the ordered points (optionally only those with a
        step in ``steps``, inclusive) fall into ``max_results`` equal buckets (SQL
        ``NTILE``); the first point of each bucket is kept, and the last point always is
        (it replaces the last sample when the answer is full). The database returns only
        the samples, whatever the history's length.
        """
        where = [metrics.c.run_uuid == run_id, metrics.c.key == key]
        if steps is not None:
            where.append(metrics.c.step.between(*steps))
        columns = HISTORY_COLUMNS
        bucketed = (
            sa.select(
                *columns,
                sa.func.ntile(max_results).over(order_by=HISTORY_ORDER).label("bucket"),
                sa.func.row_number().over(order_by=HISTORY_ORDER).label("n"),
            )
            .where(*where)
            .subquery()
        )
        ranked = sa.select(
            *(bucketed.c[c.name] for c in columns),
            bucketed.c.n,
            sa.func.row_number()
            .over(partition_by=bucketed.c.bucket, order_by=bucketed.c.n)
            .label("rank_in_bucket"),
        ).subquery()
        samples = (
            sa.select(*(ranked.c[c.name] for c in columns))
            .where(ranked.c.rank_in_bucket == 1)
            .order_by(ranked.c.n)
        )
        last = (
            _history_query(run_id, key)
            .where(*where[2:])
            .order_by(None)
            .order_by(*(c.desc() for c in HISTORY_ORDER))
            .limit(1)
        )
        with self.db.read() as conn:  # an unknown run has no points (as in MLflow)
            rows: list[HistoryRow] = list(conn.execute(samples).cursor.fetchall())
            final = conn.execute(last).cursor.fetchone()
        if final is not None and (not rows or tuple(rows[-1]) != tuple(final)):
            if len(rows) >= max_results:
                rows[-1] = final
            else:
                rows.append(final)
        return rows


#: The history's order: the tail of the primary key, so every page is an index range scan.
HISTORY_ORDER = (metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan)


#: The columns of a :data:`HistoryRow`, in its order.
HISTORY_COLUMNS = (
    metrics.c.key,
    metrics.c.value,
    metrics.c.is_nan,
    metrics.c.timestamp,
    metrics.c.step,
    metrics.c.model_id,
    metrics.c.dataset_name,
    metrics.c.dataset_digest,
)


def _history_query(run_id: str, key: str) -> AnySelect:
    return (
        sa.select(*HISTORY_COLUMNS)
        .where(metrics.c.run_uuid == run_id, metrics.c.key == key)
        .order_by(*HISTORY_ORDER)
    )


def _chunks(conn: Connection, query: AnySelect, chunk_size: int) -> Iterator[Sequence[HistoryRow]]:
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
    conn: Connection, query: AnySelect, chunk_size: int
) -> Iterator[Sequence[HistoryRow]]:
    """PostgreSQL: ``LIMIT``ed pages, each starting after the last row of the one before.

    Twice as fast as a server-side cursor, whose rows come through SQLAlchemy's buffer in
    small ``FETCH`` round trips, and the same behind the Cloud SQL connector's proxy.
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
