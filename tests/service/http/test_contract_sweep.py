"""Every route of the app's own table, called in-process with a malformed or empty request:
none answers 5xx or crashes, and every refusal is MLflow's JSON error shape.

Like tests/auth/test_route_sweep.py, the sweep enumerates the route table, so a route added
later by anyone is covered without being listed here.
"""

from __future__ import annotations

import re

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from service.http.guard.routing import served

#: Answers that are not MLflow API JSON: the UI shell and its static files, sign-in pages.
NOT_API = re.compile(r"^/($|static/|auth/|#)")
#: Bodies no handler accepts: not JSON, the wrong JSON type, wrong field types.
BAD_BODIES = [b"{", b"[]", b'{"experiment_id": {"x": 1}, "run_id": [1], "name": 7}']


def _concrete(template: str) -> str:
    """A path that matches ``template``: each parameter becomes ``1``."""
    return re.sub(r"\{[^}]+\}", "1", template)


def _api_routes(app: Starlette) -> list[tuple[str, str]]:
    return sorted(
        (spec.method, _concrete(spec.template))
        for spec in served(app.routes)
        if not NOT_API.match(spec.template) and spec.template != "/health"
    )


def _assert_mlflow_error(method: str, path: str, response) -> None:
    where = f"{method} {path} -> {response.status_code}"
    assert response.status_code < 500, f"{where}: {response.text[:300]}"
    if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
        body = response.json()
        assert isinstance(body.get("error_code"), str), f"{where}: {body}"
        assert isinstance(body.get("message"), str), f"{where}: {body}"


def test_the_sweep_sees_the_api(app: Starlette) -> None:
    routes = _api_routes(app)
    assert ("POST", "/api/2.0/mlflow/runs/log-batch") in routes
    assert ("GET", "/api/2.0/mlflow/experiments/get") in routes
    assert len(routes) > 50


@pytest.mark.parametrize("body", BAD_BODIES, ids=["truncated", "array", "wrong-types"])
def test_no_route_fails_on_a_malformed_request(
    app: Starlette, api: TestClient, body: bytes
) -> None:
    for method, path in _api_routes(app):
        if method in ("GET", "HEAD"):
            response = api.request(method, path, params={"experiment_id": "{", "max_results": "x"})
        else:
            response = api.request(
                method, path, content=body, headers={"content-type": "application/json"}
            )
        _assert_mlflow_error(method, path, response)


def test_no_route_fails_on_an_empty_request(app: Starlette, api: TestClient) -> None:
    for method, path in _api_routes(app):
        _assert_mlflow_error(method, path, api.request(method, path))
