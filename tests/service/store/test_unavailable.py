"""A database that is gone is a 503 with Retry-After, and its error text stays in the log.

The disconnect is real: a PostgreSQL backend killed under a checked-out connection (the
dialect's ``is_disconnect`` recognises it), a port where nothing listens, and the network
path to a running server's database cut while it serves.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.errors import TemporarilyUnavailable
from service.store.db import Database, create_database
from tests.support.backends import MYSQL_ADMIN_URL, PG_ADMIN_URL, scratch_database
from tests.support.server import free_port

needs_postgresql = pytest.mark.needs_backend("postgresql")
#: SQLite has no statement timeout (its writers queue on the busy timeout) and no pool.
needs_a_server = pytest.mark.needs_backend("postgresql", "mysql")


def _nothing_listening() -> Database:
    """A PostgreSQL URL on a port where nothing listens (no server needed)."""
    url = sa.engine.make_url(PG_ADMIN_URL).set(host="127.0.0.1", port=free_port())
    return create_database(url.render_as_string(hide_password=False))


@needs_postgresql
def test_a_connection_killed_mid_request_is_temporarily_unavailable(
    migrated_database: Database, backend: str
) -> None:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with pytest.raises(TemporarilyUnavailable) as caught, migrated_database.read() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            with admin.connect() as killer:
                killer.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            conn.execute(sa.text("SELECT 1"))
    finally:
        admin.dispose()
    assert caught.value.message == "The database is unavailable; retry shortly."
    # The pool dropped the dead connection: the next request is served.
    with migrated_database.read() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1


@needs_a_server
def test_a_pooled_connection_the_database_closed_is_replaced_unseen(
    database_url: str, backend: str
) -> None:
    """No ping before each request: a connection the database ended while it sat idle in
    the pool (a restart, an idle timeout, an operator) is replaced on checkout, and the
    request it would have failed is served."""
    database = create_database(database_url, pool_size=1, max_overflow=0)
    admin_url = PG_ADMIN_URL if backend == "postgresql" else MYSQL_ADMIN_URL
    own_id = "SELECT pg_backend_pid()" if backend == "postgresql" else "SELECT CONNECTION_ID()"
    kill = "SELECT pg_terminate_backend(:id)" if backend == "postgresql" else "KILL :id"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with database.read() as conn:
            first = conn.execute(sa.text(own_id)).scalar_one()
        with admin.connect() as killer:
            killer.execute(sa.text(kill), {"id": first})
        time.sleep(0.2)  # the server's goodbye reaches the pooled socket
        with database.write_statement() as conn:
            second = conn.execute(sa.text(own_id)).scalar_one()
        assert second != first
    finally:
        admin.dispose()
        database.dispose()


def test_an_unreachable_database_is_temporarily_unavailable() -> None:
    database = _nothing_listening()
    try:
        with pytest.raises(TemporarilyUnavailable), database.write():
            pass
    finally:
        database.dispose()


class _Forwarder:
    """A TCP pipe to the shared PostgreSQL that can be cut: the database going away."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # cut
                return
            upstream = socket.create_connection(self.target)
            self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)

    def cut(self) -> None:
        # shutdown() first: close() alone leaves a blocked accept() listening.
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for sock in self.open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@needs_postgresql
def test_the_client_gets_503_with_retry_after_and_no_driver_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with scratch_database("postgresql", tmp_path) as url:
        parsed = sa.engine.make_url(url)
        forwarder = _Forwarder((parsed.host or "127.0.0.1", parsed.port or 5432))
        through = parsed.set(host="127.0.0.1", port=forwarder.port)
        settings = Settings(
            database_url=through.render_as_string(hide_password=False),
            artifact_root=str(tmp_path / "artifacts"),
            auth_enabled=False,
        )
        get = ("/api/2.0/mlflow/experiments/get", {"experiment_id": "0"})
        with TestClient(create_app(settings)) as http:
            assert http.get(get[0], params=get[1]).status_code == 200
            forwarder.cut()
            with caplog.at_level(logging.WARNING, "service.store.db"):
                response = http.get(get[0], params=get[1])
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.json() == {
        "error_code": "TEMPORARILY_UNAVAILABLE",
        "message": "The database is unavailable; retry shortly.",
    }
    # The driver's words (host, port, refusal) are for the operator, in the log.
    assert "Database unavailable" in caplog.text
    assert str(forwarder.port) in caplog.text


@needs_a_server
def test_a_statement_past_the_timeout_is_temporarily_unavailable(
    database_url: str, backend: str
) -> None:
    """A database too slow to answer is a 503 the client retries, not a hung request."""
    database = create_database(database_url, statement_timeout=0.2)
    sleep = "SELECT pg_sleep(2)" if backend == "postgresql" else "SELECT SLEEP(2) FROM DUAL"
    try:
        with pytest.raises(TemporarilyUnavailable) as caught, database.read() as conn:
            conn.execute(sa.text(sleep))
        assert caught.value.message == "The database took too long to answer; retry shortly."
        # The connection survived the cancellation and serves the next request.
        with database.read() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
    finally:
        database.dispose()


@pytest.mark.slow
@needs_a_server
def test_a_migration_is_not_held_to_the_statement_timeout(
    database_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests are cut off at the statement timeout; a migration's long DDL is not."""
    from alembic import command

    from service.store import migrate

    real_upgrade = command.upgrade
    sleep = "SELECT pg_sleep(1)" if backend == "postgresql" else "SELECT SLEEP(1) FROM DUAL"

    def slow_upgrade(config: Any, revision: str) -> None:
        config.attributes["connection"].execute(sa.text(sleep))  # a long migration step
        real_upgrade(config, revision)

    monkeypatch.setattr(command, "upgrade", slow_upgrade)
    database = create_database(database_url, statement_timeout=0.5)
    try:
        migrate.downgrade(database, "base")
        migrate.upgrade(database)
        assert migrate.current_revision(database) == migrate.head_revision()
        with pytest.raises(TemporarilyUnavailable), database.read() as conn:
            conn.execute(sa.text(sleep))  # the pool's connections keep the limit
    finally:
        database.dispose()


@needs_a_server
def test_no_free_connection_in_time_is_temporarily_unavailable(database_url: str) -> None:
    """A pool with every connection taken answers 503 after a bounded wait, never queues."""
    database = create_database(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        with database.read() as held:
            held.execute(sa.text("SELECT 1"))
            with pytest.raises(TemporarilyUnavailable) as caught, database.read() as conn:
                conn.execute(sa.text("SELECT 1"))
        assert caught.value.message == "Every database connection is busy; retry shortly."
    finally:
        database.dispose()


@pytest.mark.slow
def test_a_database_that_never_answers_at_start_is_one_line_and_exit_1(tmp_path) -> None:
    """Start-up waits ``STRATUS_DB_STARTUP_WAIT_SECONDS``, then says why in one line."""
    import os
    import subprocess
    import sys

    url = sa.engine.make_url(PG_ADMIN_URL).set(host="127.0.0.1", port=free_port())
    env = {
        **os.environ,
        "STRATUS_DATABASE_URL": url.render_as_string(hide_password=False),
        "STRATUS_DB_STARTUP_WAIT_SECONDS": "1",
        "STRATUS_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "service", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "Not starting: the database did not answer" in errors[0]
