"""The app in-process, as ``stratus serve`` builds it (embedded SQLite, local artifacts, no
auth), behind Starlette's TestClient: handler contracts without a subprocess or a port.
The auth and sign-in handlers get the same app with auth on (``auth_app``, ``auth_api``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from service.app import create_app
from service.auth import tokens
from service.config import Settings


def _app(data: Path, **settings: Any) -> Starlette:
    """The app on embedded SQLite and local artifacts under ``data``."""
    return create_app(
        Settings(
            database_url=f"sqlite:///{data / 'stratus.db'}",
            artifact_root=str(data / "artifacts"),
            data_dir=data,
            **settings,
        )
    )


@pytest.fixture(scope="package")
def app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    return _app(tmp_path_factory.mktemp("in-process"), auth_enabled=False)


@pytest.fixture(scope="package")
def api(app: Starlette) -> Iterator[TestClient]:
    """Raw HTTP into the app; server errors fail the test where they happen."""
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


#: The one admin of the auth-on app (as STRATUS_ADMINS names them); members are created
#: per test through the API, with unique names.
ADMIN = "admin@example.com"
#: A group the auth-on app is configured with, and its one member.
GROUP, GROUP_MEMBER = "vision", "grouped@example.com"


@pytest.fixture(scope="package")
def auth_app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    """The same app with auth on, as a deployment runs it (sessions signed per process)."""
    return _app(
        tmp_path_factory.mktemp("in-process-auth"),
        auth_enabled=True,
        admins=(ADMIN,),
        groups={GROUP: (GROUP_MEMBER,)},
    )


@pytest.fixture(scope="package")
def auth_api(auth_app: Starlette) -> Iterator[TestClient]:
    """Raw HTTP into the auth-on app, with no credentials of its own."""
    with TestClient(auth_app, raise_server_exceptions=True) as client:
        yield client


@pytest.fixture(scope="package")
def admin_headers(auth_app: Starlette, auth_api: TestClient) -> dict[str, str]:
    """The admin's Bearer token, issued as ``stratus token create`` does (on the database:
    the first credential cannot come from the API)."""
    issued = tokens.issue(auth_app.state.auth.store, ADMIN, "in-process admin", 1)
    return {"Authorization": f"Bearer {issued.secret}"}
