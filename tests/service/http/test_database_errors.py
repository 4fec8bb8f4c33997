"""A value the database refuses is the caller's 400, and the driver's words stay in the log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.exc import DataError, IntegrityError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from service.app import create_app
from service.config import Settings

DRIVER_TEXT = 'value too long for type character varying(250) DETAIL: row (secret-run, "hunter2")'


@pytest.mark.parametrize("error", [DataError, IntegrityError])
def test_refused_values_answer_400_without_the_drivers_text(
    error: type[DataError], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def refused(_request: Request) -> Response:
        raise error("INSERT INTO params ...", {}, Exception(DRIVER_TEXT))

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'stratus.db'}",
        artifact_root=str(tmp_path / "artifacts"),
        auth_enabled=False,
    )
    app = create_app(settings)
    app.router.routes.insert(0, Route("/api/2.0/mlflow/test/refused", refused, methods=["POST"]))
    with caplog.at_level(logging.INFO, "service.app"), TestClient(app) as http:
        response = http.post("/api/2.0/mlflow/test/refused")
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "hunter2" not in body["message"] and "varying" not in body["message"]
    assert "hunter2" in caplog.text
