"""The app in-process, as ``stratus serve`` builds it (embedded SQLite, local artifacts, no
auth), behind Starlette's TestClient: handler contracts without a subprocess or a port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from service.app import create_app
from service.config import Settings


@pytest.fixture(scope="package")
def app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    data: Path = tmp_path_factory.mktemp("in-process")
    settings = Settings(
        database_url=f"sqlite:///{data / 'stratus.db'}",
        artifact_root=str(data / "artifacts"),
        data_dir=data,
        auth_enabled=False,
    )
    return create_app(settings)


@pytest.fixture(scope="package")
def api(app: Starlette) -> Iterator[TestClient]:
    """Raw HTTP into the app; server errors fail the test where they happen."""
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client
