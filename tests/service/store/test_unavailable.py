"""A database that is gone is a 503 with Retry-After, and its error text stays in the log.

The disconnect is real: a PostgreSQL backend killed under a checked-out connection (the
dialect's ``is_disconnect`` recognises it), and a port where nothing listens.
"""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.errors import TemporarilyUnavailable
from service.store.db import Database, create_database
from tests.support.backends import PG_ADMIN_URL, enabled_backends
from tests.support.server import free_port

needs_postgresql = pytest.mark.skipif(
    "postgresql" not in enabled_backends(), reason="PostgreSQL backend not enabled"
)


def _nothing_listening() -> Database:
    """A PostgreSQL URL on a port where nothing listens (no server needed)."""
    url = sa.engine.make_url(PG_ADMIN_URL).set(host="127.0.0.1", port=free_port())
    return create_database(url.render_as_string(hide_password=False))


@needs_postgresql
def test_a_connection_killed_mid_request_is_temporarily_unavailable(
    migrated_database: Database, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("kills a PostgreSQL backend")
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


def test_an_unreachable_database_is_temporarily_unavailable() -> None:
    database = _nothing_listening()
    try:
        with pytest.raises(TemporarilyUnavailable), database.write():
            pass
    finally:
        database.dispose()


def test_the_client_gets_503_with_retry_after_and_no_driver_text(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    database = _nothing_listening()
    settings = Settings(
        migrate_on_start=False, auth_enabled=False, artifact_root=str(tmp_path / "artifacts")
    )
    app = create_app(settings, database=database)
    with caplog.at_level(logging.WARNING, "service.store.db"), TestClient(app) as http:
        response = http.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.json() == {
        "error_code": "TEMPORARILY_UNAVAILABLE",
        "message": "The database is unavailable; retry shortly.",
    }
    # The driver's words (host, port, refusal) are for the operator, in the log.
    assert "Database unavailable" in caplog.text
    assert str(database.engine.url.port) in caplog.text
