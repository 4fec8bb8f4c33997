"""Engine construction and transactions.

One :class:`Database` wraps the SQLAlchemy engine. Stores read through :meth:`read` (a
search's own statement under :func:`planned_for_values`) and write through :meth:`write`,
which gives them one transaction per call: a request is all or nothing; a write that is
one atomic statement goes through :meth:`write_statement`, which on PostgreSQL sends it
alone, without ``BEGIN`` and ``COMMIT`` (one round trip).
SQLite gets WAL, a busy timeout and serialised writers, so concurrent clients never see
"database is locked". The Cloud SQL connector is imported only when an instance is
configured.

Connections are not pinged before use (a round trip per request): one the database
closed while it sat in the pool (a restart, an idle timeout) is found by a look at its
socket on checkout and replaced (:func:`_replace_closed_connections`); one that breaks
during a statement is a 503, and SQLAlchemy then replaces every connection of the pool
opened before it.
"""

from __future__ import annotations

import contextlib
import logging
import select
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, CursorResult, Engine, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, InvalidatePoolError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

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
        self._outage = Outage()
        # PostgreSQL: each statement its own transaction, committed before the answer.
        # Reads lose nothing by it: under READ COMMITTED every statement of a transaction
        # takes its own snapshot anyway, and ``BEGIN`` plus the rollback on the pool's
        # return cost two round trips per read.
        self._autocommit = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.dialect == "postgresql"
            else engine
        )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self._unavailable_on_disconnect(), self._autocommit.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection inside one transaction, committed on success, rolled back on error."""
        lock = self._write_lock or contextlib.nullcontext()
        with self._unavailable_on_disconnect(), lock:
            conn = self.engine.connect()
            if self.is_sqlite:
                conn = conn.execution_options(stratus_write=True)
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.close()

    @contextlib.contextmanager
    def write_statement(self) -> Iterator[Connection]:
        """A connection for exactly one statement that is atomic on its own.

        On PostgreSQL it runs in autocommit: the database commits it (and flushes its WAL)
        before it answers, so an answered write is as durable as after ``COMMIT``, in one
        round trip instead of three. Elsewhere it is :meth:`write`.
        """
        if self._autocommit is self.engine:
            with self.write() as conn:
                yield conn
            return
        with self._unavailable_on_disconnect(), self._autocommit.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def _unavailable_on_disconnect(self) -> Iterator[None]:
        """A dropped, unreachable, busy or too slow database is a 503 with ``Retry-After``
        (which the client retries), never a 500.

        SQLAlchemy asks the dialect (``is_disconnect``) whether a driver error means the
        connection is gone and says so in ``connection_invalidated``; a connection that
        could not be opened, SQLite's busy timeout, a statement over the statement timeout
        and a pool with no connection free in time are just as transient. The driver's
        text goes to the log only (it can name hosts, users and SQL), once per outage.
        """
        try:
            yield
        except DBAPIError as exc:
            if _is_statement_timeout(exc):
                raise TemporarilyUnavailable(
                    "The database took too long to answer; retry shortly.", retry_after_seconds=2
                ) from exc
            if not (exc.connection_invalidated or _is_busy(exc) or _is_connect_failure(exc)):
                raise
            self._outage.began(exc)
            raise TemporarilyUnavailable(
                "The database is unavailable; retry shortly.", retry_after_seconds=2
            ) from exc
        except PoolTimeout as exc:
            raise TemporarilyUnavailable(
                "Every database connection is busy; retry shortly.", retry_after_seconds=1
            ) from exc
        self._outage.ended()


class Outage:
    """Whether the database is away, logged once when that changes: one line when it goes
    (with the driver's first line of reason), one when it is back (with how long it was
    away), whatever the number of requests in between."""

    def __init__(self) -> None:
        self._since: float | None = None
        self._lock = threading.Lock()

    def began(self, exc: DBAPIError) -> None:
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        log.warning("Database unavailable (%s): answering 503 until it is back", reason)

    def ended(self) -> None:
        if self._since is None:  # the hot path: one attribute read
            return
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            log.warning("Database available again after %.1f s", time.monotonic() - since)


def _is_connect_failure(exc: DBAPIError) -> bool:
    """An operational error outside any statement: the pool failed to open a connection
    (refused, timed out, authentication backend down), or a commit failed in flight."""
    return exc.statement is None and isinstance(exc, OperationalError | InterfaceError)


def _is_statement_timeout(exc: DBAPIError) -> bool:
    """The statement ran past ``STRATUS_DB_STATEMENT_TIMEOUT_SECONDS``: PostgreSQL's
    query_canceled (57014), MariaDB's 1969 or MySQL's 3024."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "57014":
        return True
    args: tuple[Any, ...] = getattr(orig, "args", ())
    return bool(args) and args[0] in (1969, 3024)


def _is_busy(exc: DBAPIError) -> bool:
    """SQLite gave up waiting for another writer (after ``SQLITE_BUSY_TIMEOUT_MS``)."""
    return getattr(exc.orig, "sqlite_errorcode", None) in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )


@contextlib.contextmanager
def planned_for_values(conn: Connection) -> Iterator[None]:
    """Inside the block, PostgreSQL plans each statement for its values.

    psycopg prepares a statement once it has run five times, and after five more runs
    PostgreSQL may keep one generic plan for any values. A search's best plan depends on
    how many rows its values match (``params.model = 'm3'``, an experiment of 1,000 runs
    or of 100,000), which a generic plan cannot know: from the eleventh identical search
    on, the runs search at 10,000 runs took 150 ms where the plan made for its values
    took 20 (tests/service/store/search/test_plans_per_call.py). Planning it each time
    costs about 2 ms; the statements that load a page by ids keep their prepared plans.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    driver: Any = conn.connection.driver_connection
    threshold = driver.prepare_threshold
    driver.prepare_threshold = None  # psycopg: statements go unprepared
    try:
        yield
    finally:
        driver.prepare_threshold = threshold


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
        pool_timeout=settings.db_pool_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds,
        connector_factory=connector_factory,
    )


def create_database(
    url: str,
    *,
    cloud_sql_instance: str | None = None,
    cloud_sql_ip_type: str = "public",
    pool_size: int = 10,
    max_overflow: int = 0,
    pool_timeout: float = 10.0,
    statement_timeout: float = 0,
    connector_factory: ConnectorFactory | None = None,
) -> Database:
    """Build the engine for ``url``; through the Cloud SQL connector if an instance is given.

    ``pool_timeout`` bounds the wait for a free connection and ``statement_timeout`` (in
    seconds, 0 for none) each statement on PostgreSQL and MySQL; past either, a request
    is a 503 rather than a queue that grows without end.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Database(_sqlite_engine(url))

    kwargs: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": max_overflow,
        "pool_timeout": pool_timeout,
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
    engine = sa.create_engine(url, **kwargs)
    _replace_closed_connections(engine)
    _configure_sessions(engine, statement_timeout)
    return Database(engine)


def _replace_closed_connections(engine: Engine) -> None:
    """On checkout, replace a pooled connection the database has closed or spoken on.

    An idle connection gets no bytes from the server unless it is going away: PostgreSQL
    sends "terminating connection" and closes on shutdown, restart or an idle timeout;
    MySQL closes. Either leaves the socket readable, which a zero-timeout ``poll`` sees
    without a round trip (the pre-ping it replaces cost one per request). Every older
    connection of the pool is replaced too, as they went down with it.
    """

    @event.listens_for(engine, "checkout")
    def _check(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        fd = _socket_of(dbapi_conn)
        if fd is None:
            return
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        if poller.poll(0):
            raise InvalidatePoolError("the database closed this connection while it was idle")


def _socket_of(dbapi_conn: Any) -> int | None:
    """The file descriptor of a psycopg or PyMySQL connection (``None``: closed, unknown)."""
    try:
        if hasattr(dbapi_conn, "fileno"):  # psycopg
            return int(dbapi_conn.fileno())
        sock = getattr(dbapi_conn, "_sock", None)  # PyMySQL keeps it private
        return None if sock is None else int(sock.fileno())
    except Exception:  # a closed connection: SQLAlchemy's own handling takes over
        return None


def _configure_sessions(engine: Engine, statement_timeout: float) -> None:
    """Set up every new connection (any driver, the connector's too): the statement
    timeout in seconds (0: none; migrations lift it on their own connection, ``migrate``),
    and on PostgreSQL no parallel workers.

    A worker costs PostgreSQL a process start per statement, more than the statements
    this server sends take: loading a page of 100 runs of a 111,000-run database took
    15 to 35 ms with two workers and 3 to 5 ms without. Requests run side by side
    already, and a worker per statement would take the cores they need.
    """
    backend = engine.dialect.name
    if backend != "postgresql" and statement_timeout <= 0:
        return

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        try:
            if backend == "postgresql":
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, false),"
                    " set_config('max_parallel_workers_per_gather', '0', false)",
                    (str(int(statement_timeout * 1000)),),
                )
            elif "mariadb" in str(dbapi_conn.get_server_info()).lower():
                cursor.execute(f"SET SESSION max_statement_time = {statement_timeout:.3f}")
            else:  # MySQL limits SELECTs only
                cursor.execute(f"SET SESSION max_execution_time = {int(statement_timeout * 1000)}")
        finally:
            cursor.close()
        if backend == "postgresql":
            dbapi_conn.commit()  # psycopg opened a transaction for the settings


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
