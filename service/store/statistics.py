"""PostgreSQL's planner statistics: whether run search can rely on them, and refreshing them.

A table bulk-loaded and not yet analysed (after ``stratus import`` or a restore, until
autovacuum's next round) gives the planner no statistics: it takes a table of 100,000
rows for a few hundred, and estimates a row or two for every filtered scan. Run search
asks :meth:`PlannerStatistics.present` and, without them, writes its param test in a
shape whose plan does not depend on estimates (:mod:`service.store.search.clauses`) and
loads its page under :func:`indexes_preferred`. :func:`analyse` runs ``ANALYZE`` after
migrations and imports, so that window is short. Other databases answer "present" and analyse
nothing: SQLite plans without statistics by design, and InnoDB keeps its own.
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
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ANALYZE"))
