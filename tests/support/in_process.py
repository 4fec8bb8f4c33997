"""What the in-process HTTP tests (tests/service/http) share: MLflow's error shape, checked,
and a new experiment to work in."""

from __future__ import annotations

import uuid

import httpx
from starlette.testclient import TestClient

API = "/api/2.0/mlflow"


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """``response`` is MLflow's JSON error with this status and ``error_code``."""
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code


def new_experiment(api: TestClient, headers: dict[str, str] | None = None) -> str:
    """A new experiment's id, created through the API (``headers``: who creates it)."""
    name = f"in-process-{uuid.uuid4().hex[:10]}"
    created = api.post(f"{API}/experiments/create", json={"name": name}, headers=headers)
    assert created.status_code == 200, created.text
    return str(created.json()["experiment_id"])
