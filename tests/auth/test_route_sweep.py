"""Every route the app serves is behind auth, and has a permission rule.

The sweep enumerates the app's own route table (so it covers routes added later by
anyone) and calls each one without credentials: only /health and the sign-in pages may
answer; everything else must be a 401 in MLflow's error shape. A route without a rule in
service/http/guard/rules.py fails here, and is admin-only at runtime until it gets one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.http.guard.routing import RouteTable, served
from service.http.guard.rules import ADMIN, PUBLIC, RULES, canonical

PUBLIC_ROUTES = {
    ("GET", "/health"),
    ("GET", "/auth/login"),
    ("POST", "/auth/login"),
    ("GET", "/auth/google"),
    ("GET", "/auth/google/callback"),
    ("POST", "/auth/logout"),
    # The UI's shell, its assets and the "who am I" answer (which names only the caller).
    ("GET", "/"),
    ("GET", "/static/{path}"),
    ("GET", "/api/2.0/stratus/session"),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    data = tmp_path_factory.mktemp("sweep")
    settings = Settings(auth_enabled=True, admins=("admin@example.com",), data_dir=Path(data))
    return create_app(settings)


@pytest.fixture(scope="module")
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=True) as c:
        yield c


def _concrete(template: str) -> str:
    """A path that matches ``template``: each parameter becomes ``1``."""
    return re.sub(r"\{[^}]+\}", "1", template)


def test_every_route_has_a_rule(app: Starlette) -> None:
    table = RouteTable(app.routes, RULES)
    assert table.unruled == [], "add these to service/http/guard/rules.py"


def test_every_rule_names_a_route(app: Starlette) -> None:
    served_keys = {spec.key for spec in served(app.routes)}
    assert set(RULES) - served_keys == set(), "stale entries in service/http/guard/rules.py"


def test_only_health_and_sign_in_are_public(app: Starlette) -> None:
    public = {key for key, rule in RULES.items() if rule is PUBLIC}
    assert public == PUBLIC_ROUTES


def test_no_route_answers_without_credentials(app: Starlette, client: TestClient) -> None:
    answered = []
    for spec in served(app.routes):
        path = _concrete(spec.template)
        response = client.request(spec.method, path, json={}, follow_redirects=False)
        if (spec.method, canonical(spec.template)) in PUBLIC_ROUTES:
            continue
        body = response.json() if response.status_code == 401 else None
        if response.status_code != 401 or body.get("error_code") != "UNAUTHENTICATED":
            answered.append(f"{spec.method} {path}: {response.status_code}")
    assert answered == []


def test_unknown_paths_need_credentials_too(client: TestClient) -> None:
    for path in ("/api/2.0/mlflow/no-such-endpoint", "/no-such-page", "/static/../app.py"):
        assert client.get(path).status_code == 401


def test_public_routes_answer(client: TestClient) -> None:
    assert client.get("/health").text == "OK"
    assert "Sign in to Stratus" in client.get("/auth/login").text


def test_a_browser_is_sent_to_sign_in(client: TestClient) -> None:
    response = client.get(
        "/no-such-page?view=runs", headers={"accept": "text/html"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/login?next=%2Fno-such-page%3Fview%3Druns"


def test_the_ui_shell_loads_without_a_session(client: TestClient) -> None:
    """The UI itself sends a visitor to sign in, with its fragment (never sent here)."""
    assert client.get("/", headers={"accept": "text/html"}).status_code == 200
    assert client.get("/ajax-api/2.0/stratus/session").json() == {"auth_enabled": True}


def test_a_route_without_a_rule_is_reported_and_admin_only() -> None:
    async def endpoint(_request):
        return PlainTextResponse("secret")

    routes = [Route("/api/2.0/mlflow/new-thing", endpoint, methods=["POST"])]
    table = RouteTable(routes, RULES)
    assert [spec.key for spec in table.unruled] == [("POST", "/api/2.0/mlflow/new-thing")]
    match = table.match("POST", "/api/2.0/mlflow/new-thing")
    assert match is not None and match.rule is ADMIN


def test_ajax_twins_share_rules() -> None:
    assert canonical("/ajax-api/2.0/mlflow/runs/get") == "/api/2.0/mlflow/runs/get"
    assert canonical("/ajax-api/2.0/mlflow-artifacts/artifacts/{artifact_path:path}") == (
        "/api/2.0/mlflow-artifacts/artifacts/{artifact_path}"
    )
