"""Apply the Alembic migrations shipped in the package.

Several Cloud Run instances may start at once against one database, so the upgrade runs
under a database-wide lock (an advisory lock on PostgreSQL, ``GET_LOCK`` on MySQL; SQLite
serialises writers by itself).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from service.store.db import Database

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
LOCK_NAME = "stratus_migrations"
PG_LOCK_KEY = 0x5754_5241_5455  # "STRATU" as an int64 advisory-lock key


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default)."""
    with database.engine.connect() as conn, _migration_lock(conn):
        if (
            revision == "head"
            and MigrationContext.configure(conn).get_current_revision() == head_revision()
        ):
            return
        log.info("Applying database migrations up to %s", revision)
        command.upgrade(_config(conn), revision)
        conn.commit()


def downgrade(database: Database, revision: str) -> None:
    with database.engine.connect() as conn, _migration_lock(conn):
        command.downgrade(_config(conn), revision)
        conn.commit()


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
    else:
        yield
