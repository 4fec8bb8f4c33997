"""PostgreSQL's planner statistics: whether run search can rely on them, and refreshing them.

A table bulk-loaded and not yet analysed (after ``stratus import`` or a restore, until
autovacuum's next round) gives the planner no statistics: it takes a table of 100,000
rows for a few hundred, and estimates a row or two for every filtered scan. Run search
asks :meth:`PlannerStatistics.present` and, without them, writes its param test in a
shape whose plan does not depend on estimates (:mod:`service.store.search.clauses`) and
loads its page under :func:`indexes_preferred`. :func:`analyse` runs ``ANALYZE`` (and
``VACUUM`` of the search tables) after migrations and imports, so that window is short.
Other databases answer "present" and analyse nothing: SQLite plans without statistics by
design, and InnoDB keeps its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: The tables a run search joins; their row counts tell whether ANALYZE (or VACUUM) ran.
SEARCH_TABLES = ("runs", "params", "latest_metrics")

_ANALYSED = sa.text(
    "SELECT count(*) FROM pg_class WHERE reltuples > 0"
    " AND oid IN (to_regclass('runs'), to_regclass('params'), to_regclass('latest_metrics'))"
)


class PlannerStatistics:
    """Remembers, per process, once the search tables have statistics (they keep them)."""

    def __init__(self) -> None:
        self._present = False

    def present(self, conn: Connection) -> bool:
        """Whether the planner has row counts for every search table (one catalog read
        per search until it has)."""
        if self._present or conn.dialect.name != "postgresql":
            return True
        self._present = conn.execute(_ANALYSED).scalar() == len(SEARCH_TABLES)
        return self._present


@contextlib.contextmanager
def indexes_preferred(conn: Connection) -> Iterator[None]:
    """Inside the block, take an index wherever one serves (PostgreSQL).

    Without statistics, loading a page of 100 runs read each child table whole (it looked
    small): at 10,000 runs 55 ms instead of 3 for params, tags and latest metrics. Reads
    run in autocommit (no transaction for ``SET LOCAL`` to end), so the session setting
    is put back on the way out, before the connection returns to the pool.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.execute(sa.text("SET enable_seqscan = off"))
    try:
        yield
    finally:
        conn.execute(sa.text("RESET enable_seqscan"))


def analyse(conn: Connection) -> None:
    """Refresh the planner's statistics of the whole database (PostgreSQL only).

    ``ANALYZE`` reads a sample of each table (30,000 rows by default), so it takes about
    as long for a million rows as for a hundred thousand.

    On a connection in autocommit (``VACUUM`` cannot run in a transaction block), the
    search tables are vacuumed first. That sets their visibility map, without which an
    index-only scan would still visit the heap for every row, and the planner reads the
    matching params from the heap instead: the benchmark's search (111,000 runs; the param
    test of :mod:`service.store.value_index`) read 5,400 buffers instead of 700 at an
    experiment of 1,000 runs, 11,000 instead of 6,400 at 10,000. The cost is a read of
    every page not yet marked all-visible: after an import the whole of ``runs``,
    ``params`` and ``latest_metrics``, not the metric history (at 111,000 runs, 96 MB and
    about a second more than ``ANALYZE`` alone); on a database autovacuum keeps up with,
    little. Autovacuum would do the same on its next round (PostgreSQL 13 and later vacuum
    insert-only tables too); this makes the first searches after an import or migration
    fast. It runs without the statement timeout.
    """
    if conn.dialect.name != "postgresql":
        return
    if not _autocommit(conn):
        conn.execute(sa.text("ANALYZE"))
        return
    # Maintenance, not a request: no statement timeout, the session's put back after.
    timeout = conn.execute(sa.text("SELECT current_setting('statement_timeout')")).scalar()
    conn.execute(sa.text("SET statement_timeout = 0"))
    try:
        conn.execute(sa.text(f"VACUUM {', '.join(SEARCH_TABLES)}"))
        conn.execute(sa.text("ANALYZE"))
    finally:
        conn.execute(sa.text("SELECT set_config('statement_timeout', :t, false)"), {"t": timeout})


def _autocommit(conn: Connection) -> bool:
    return bool(getattr(conn.connection.dbapi_connection, "autocommit", False))
