"""The UI is served by the service itself: one HTML shell at ``/`` with a strict
Content-Security-Policy, and assets from the package under ``/static``; nothing from a CDN,
and the API keeps its JSON errors."""

from __future__ import annotations

import re

import httpx
import pytest

from service.ui.routes import STATIC_DIR

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def web(ui_server):
    with httpx.Client(base_url=ui_server.url, timeout=30) as client:
        yield client


def test_the_shell_is_served_at_root_with_a_strict_policy(web):
    response = web.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
    ):
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module" src="/static/js/main.js">' in response.text


def test_every_asset_ships_in_the_package_and_is_served(web):
    shell = web.get("/").text
    referenced = set(re.findall(r'(?:src|href)="([^"#]+)"', shell))
    assert referenced and all(url.startswith("/static/") for url in referenced), referenced
    modules = sorted(STATIC_DIR.rglob("*.js"))
    for path in modules:
        source = path.read_text()
        for target in re.findall(r'^import .* from "([^"]+)";', source, flags=re.M):
            assert target.startswith("."), f"{path.name} imports {target} from outside the package"
            assert (path.parent / target).resolve().is_file(), f"{path.name}: missing {target}"
    for url in referenced | {f"/static/{p.relative_to(STATIC_DIR)}" for p in modules}:
        response = web.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "no-cache"
    assert web.get("/static/js/main.js").headers["content-type"].startswith("text/javascript")
    assert (STATIC_DIR / "vendor" / "uplot" / "LICENSE").read_text().startswith("The MIT License")


def test_api_errors_stay_json_and_other_paths_plain(web):
    api = web.get("/api/2.0/mlflow/no-such-endpoint")
    assert api.status_code == 404
    assert api.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert web.get("/no-such-page").status_code == 404
    assert web.get("/static/../app.py").status_code == 404
    assert web.get("/static/js/nope.js").status_code == 404
