"""Start-up waits for a database that comes up late (issue: the first Cloud Run revision
races IAM propagation), against a real server whose port starts listening only after the
app has begun starting."""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from starlette.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.store.db import Database, create_database
from service.store.startup import Backoff, is_transient, wait_for_database
from tests.support.backends import enabled_backends, scratch_database

NETWORK_BACKENDS = [b for b in enabled_backends() if b != "sqlite"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Pipe(socketserver.BaseRequestHandler):
    """Relays one client connection to the real database server, both ways."""

    upstream: tuple[str, int]

    def handle(self) -> None:
        with socket.create_connection(self.upstream) as upstream:
            pump = threading.Thread(target=_copy, args=(upstream, self.request), daemon=True)
            pump.start()
            _copy(self.request, upstream)
            pump.join()


def _copy(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@contextmanager
def listening_later(port: int, upstream: tuple[str, int]) -> Iterator[None]:
    """From now on, ``port`` accepts connections and relays them to ``upstream``."""
    handler = type("Pipe", (_Pipe,), {"upstream": upstream})
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


class _Retried(logging.Handler):
    """Counts the start-up wait's retry lines and signals the first one."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.first = threading.Event()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.first.set()


@contextmanager
def retry_lines() -> Iterator[_Retried]:
    handler = _Retried()
    logger = logging.getLogger("service.store.startup")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize("server", NETWORK_BACKENDS)
def test_the_app_starts_once_a_late_database_listens(server: str, tmp_path: Path) -> None:
    with scratch_database(server, tmp_path) as real_url:
        real = make_url(real_url)
        port = free_port()
        late_url = real.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        settings = Settings(
            database_url=late_url,
            artifact_root=str(tmp_path / "artifacts"),
            auth_enabled=False,
            db_startup_wait_seconds=600,  # generous: the machine is shared and loaded
        )
        outcome: dict[str, object] = {}

        def start_and_probe() -> None:
            try:
                with TestClient(create_app(settings)) as client:
                    outcome["health"] = client.get("/health").status_code
            except BaseException as exc:  # reported to the test thread below
                outcome["error"] = exc

        with retry_lines() as retries:
            starting = threading.Thread(target=start_and_probe, daemon=True)
            starting.start()
            assert retries.first.wait(120), "start-up never retried the refused connection"
            assert starting.is_alive()  # still waiting for the database, not failed
            with listening_later(port, (real.host or "127.0.0.1", real.port or 5432)):
                starting.join(300)
        assert not starting.is_alive()
        assert "error" not in outcome, outcome.get("error")
        assert outcome["health"] == 200
        assert retries.messages
        for line in retries.messages:
            assert line.startswith("Database not reachable yet (attempt ")
            assert "\n" not in line
        # The migrations ran once the database answered.
        engine = sa.create_engine(real_url)
        try:
            assert "alembic_version" in sa.inspect(engine).get_table_names()
        finally:
            engine.dispose()


class FakeClock:
    """Time that moves only when the code under test sleeps: no real waiting, no timing."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _nobody_listening() -> Database:
    return create_database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x")


def test_gives_up_after_the_budget_with_the_last_error() -> None:
    clock = FakeClock()
    with retry_lines() as retries, pytest.raises(DBAPIError) as raised:
        wait_for_database(_nobody_listening(), 20, clock=clock, sleep=clock.sleep)
    assert is_transient(raised.value)
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 4.5]  # backoff, cut to the budget
    assert len(retries.messages) == len(clock.sleeps)
    assert "OperationalError" in retries.messages[0] or "refused" in retries.messages[0]


def test_a_zero_budget_tries_once() -> None:
    clock = FakeClock()
    with pytest.raises(DBAPIError):
        wait_for_database(_nobody_listening(), 0, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == []


def test_an_error_no_wait_can_fix_is_raised_at_once() -> None:
    def creator() -> object:
        raise ValueError("Arg `instance_connection_string` must have format: P:R:I")

    database = Database(sa.create_engine("postgresql+psycopg://", creator=creator))
    clock = FakeClock()
    with retry_lines() as retries, pytest.raises(ValueError, match="must have format"):
        wait_for_database(database, 60, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [] and retries.messages == []


def test_the_first_success_returns_the_attempts(tmp_path: Path) -> None:
    database = create_database(f"sqlite:///{tmp_path / 'ok.db'}")
    assert wait_for_database(database, 5) == 1


def test_backoff_doubles_up_to_its_ceiling() -> None:
    assert [Backoff().delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
