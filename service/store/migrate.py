"""Apply the Alembic migrations shipped in the package.

Several Cloud Run instances may start at once against one database, so the upgrade runs
under a database-wide lock (an advisory lock on PostgreSQL, ``GET_LOCK`` on MySQL, a lock
file beside an SQLite database).

Most starts find the schema already current. That check reads ``alembic_version`` with one
query and never imports Alembic, which costs about a tenth of a second of start-up.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.store.db import Database
from service.store.statistics import analyse

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
LOCK_NAME = "stratus_migrations"
PG_LOCK_KEY = 0x5754_5241_5455  # "STRATU" as an int64 advisory-lock key


def head_revision() -> str:
    """The newest shipped revision.

    Migrations are ``versions/NNNN_<slug>.py`` with ``revision = "NNNN"``, each revising the
    one before, so the head is the highest prefix (``tests/migrations`` holds Alembic's own
    answer to the same).
    """
    revisions = (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py")
    return max(path.name.split("_", 1)[0] for path in revisions)


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as conn:
        return _current_revision(conn)


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default).

    When several instances start at once, one migrates and the others wait for its lock,
    then find the schema current and go on.
    """
    wanted = head_revision() if revision == "head" else revision
    with database.engine.connect() as conn:
        if _current_revision(conn) == wanted:
            return
        conn.rollback()  # read the version again under the lock, not from this snapshot
        with _migration_lock(conn):
            found = _current_revision(conn)
            if found == wanted:
                log.info("Database schema is at %s: another instance migrated it", wanted)
                return
            from alembic import command

            log.info("Applying database migrations from %s up to %s", found or "empty", wanted)
            _lift_statement_timeout(conn)
            command.upgrade(_config(conn), wanted)
            conn.commit()
            # A new index or column may need statistics (a restored database too), and
            # VACUUM, which analyse runs only outside a transaction, a visibility map.
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT")
            analyse(conn)
            conn.commit()
        conn.invalidate()  # not back to the pool: it runs without the statement timeout


def downgrade(database: Database, revision: str) -> None:
    from alembic import command

    with database.engine.connect() as conn:
        with _migration_lock(conn):
            _lift_statement_timeout(conn)
            command.downgrade(_config(conn), revision)
            conn.commit()
        conn.invalidate()


def _lift_statement_timeout(conn: Connection) -> None:
    """A migration may take longer than a request may (``STRATUS_DB_STATEMENT_TIMEOUT_SECONDS``)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SET statement_timeout = 0"))
    elif conn.dialect.name == "mysql":
        mariadb = getattr(conn.dialect, "is_mariadb", False)
        variable = "max_statement_time" if mariadb else "max_execution_time"
        conn.execute(sa.text(f"SET SESSION {variable} = 0"))


def _current_revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def _config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@contextlib.contextmanager
def _migration_lock(conn: Connection) -> Iterator[None]:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": PG_LOCK_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
            conn.commit()
    elif dialect == "mysql":
        conn.execute(sa.text("SELECT GET_LOCK(:n, 300)"), {"n": LOCK_NAME})
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": LOCK_NAME})
    elif dialect == "sqlite" and conn.engine.url.database not in (None, "", ":memory:"):
        # SQLite has no named locks; a lock file beside the database does the same job
        # for the processes of one machine, which are the only ones that can share it.
        import fcntl

        with open(f"{conn.engine.url.database}.migrate-lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
    else:
        yield
