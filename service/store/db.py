"""Engine construction and transactions.

One :class:`Database` wraps the SQLAlchemy engine. Stores read through :meth:`read` and
write through :meth:`write`, which gives them one transaction per call: a request is all
or nothing. SQLite gets WAL, a busy timeout and serialised writers, so concurrent clients
never see "database is locked". The Cloud SQL connector is imported only when an instance
is configured.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, CursorResult, Engine, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from service.errors import TemporarilyUnavailable

if TYPE_CHECKING:
    from service.config import Settings

ConnectorFactory = Callable[[], Any]
# A query and a result row of any shape (SQLAlchemy types them by their column types).
AnySelect: TypeAlias = sa.Select[*tuple[Any, ...]]
AnyRow: TypeAlias = sa.Row[*tuple[Any, ...]]

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def inserted_id(result: CursorResult[Any]) -> int:
    """The integer primary key that an ``INSERT`` of one row generated."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the INSERT generated no primary key")
    return int(key[0])


class Database:
    """The backend store's engine plus the transaction discipline around it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # SQLite allows one writer at a time; serialising writers in-process turns lock
        # contention into a short queue instead of SQLITE_BUSY errors.
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with _unavailable_on_disconnect(), self.engine.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection inside one transaction, committed on success, rolled back on error."""
        lock = self._write_lock or contextlib.nullcontext()
        with _unavailable_on_disconnect(), lock:
            conn = self.engine.connect()
            if self.is_sqlite:
                conn = conn.execution_options(stratus_write=True)
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.close()

    def dispose(self) -> None:
        self.engine.dispose()


@contextlib.contextmanager
def _unavailable_on_disconnect() -> Iterator[None]:
    """A dropped or unreachable database is a 503 (retried by the client), never a 500.

    SQLAlchemy asks the dialect (``is_disconnect``) whether a driver error means the
    connection is gone and says so in ``connection_invalidated``; a connection that could
    not be opened at all, and SQLite's busy timeout, are just as transient. The driver's
    text goes to the log only: it can name hosts, users and SQL.
    """
    try:
        yield
    except DBAPIError as exc:
        if not (exc.connection_invalidated or _is_busy(exc) or _is_connect_failure(exc)):
            raise
        log.warning("Database unavailable: %s", exc.orig)
        raise TemporarilyUnavailable(
            "The database is unavailable; retry shortly.", retry_after_seconds=2
        ) from exc


def _is_connect_failure(exc: DBAPIError) -> bool:
    """An operational error outside any statement: the pool failed to open a connection
    (refused, timed out, authentication backend down), or a commit failed in flight."""
    return exc.statement is None and isinstance(exc, OperationalError | InterfaceError)


def _is_busy(exc: DBAPIError) -> bool:
    """SQLite gave up waiting for another writer (after ``SQLITE_BUSY_TIMEOUT_MS``)."""
    return getattr(exc.orig, "sqlite_errorcode", None) in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )


def open_database(
    settings: Settings, connector_factory: ConnectorFactory | None = None
) -> Database:
    """The backend store that ``settings`` describe (URL, Cloud SQL instance, pool)."""
    return create_database(
        settings.resolved_database_url,
        cloud_sql_instance=settings.cloud_sql_instance,
        cloud_sql_ip_type=settings.cloud_sql_ip_type,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        connector_factory=connector_factory,
    )


def create_database(
    url: str,
    *,
    cloud_sql_instance: str | None = None,
    cloud_sql_ip_type: str = "public",
    pool_size: int = 5,
    max_overflow: int = 5,
    connector_factory: ConnectorFactory | None = None,
) -> Database:
    """Build the engine for ``url``; through the Cloud SQL connector if an instance is given."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Database(_sqlite_engine(url))

    kwargs: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": max_overflow,
        "pool_pre_ping": True,
        "pool_recycle": 1800,
    }
    if parsed.get_backend_name() == "mysql":
        kwargs["isolation_level"] = "READ COMMITTED"
    if cloud_sql_instance:
        from service.store.cloudsql import cloud_sql_creator  # heavy: only when configured

        kwargs["creator"] = cloud_sql_creator(
            parsed,
            cloud_sql_instance,
            ip_type=cloud_sql_ip_type,
            connector_factory=connector_factory,
        )
    return Database(sa.create_engine(url, **kwargs))


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below open transactions, not the sqlite3 module.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across process crashes (kill -9) in WAL mode; only an OS
        # crash or power loss can drop the last transactions.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-16384")  # 16 MiB of page cache per connection
        # MLflow's LIKE is case-sensitive (ILIKE is the other one); SQLite's is not by default.
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Writers take the lock up front, so a read-then-write never deadlocks on upgrade.
        immediate = conn.get_execution_options().get("stratus_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
