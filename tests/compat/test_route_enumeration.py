"""Every route ``mlflow server`` 3.17 serves is served by Stratus, or listed with its reason.

The routes come from the pinned mlflow itself (tests/support/mlflow_surface.py), so a
newer pin that adds a route fails here until someone serves it or lists it in
service/http/unserved.py. Each route is called on the running server: a served route
answers (any status but a routing 404/405, never a 5xx or an HTML page); a listed one
answers a JSON ``ENDPOINT_NOT_FOUND`` with its reason.
"""

from __future__ import annotations

import re

import httpx

from tests.support.mlflow_surface import (
    listed_unserved,
    mlflow_routes,
    proto_endpoints,
    render,
)
from tests.support.server import REPO_ROOT

#: Filled into path parameters: a name no artifact, run or model can have (the reserved
#: prefix makes every artifact endpoint refuse it), so probing changes nothing.
PROBE = ".stratus-probe"


def concrete(template: str) -> str:
    path = re.sub(r"\{[^}:]+:path\}", f"{PROBE}/x", template)
    return re.sub(r"\{[^}]+\}", PROBE, path)


def probe(http: httpx.Client, method: str, template: str) -> httpx.Response:
    """One request on its own connection (an endpoint that answers before reading a body
    it does not expect may have the server close the connection)."""
    headers = {"Connection": "close"}
    if method == "GET":
        return http.request(method, concrete(template), headers=headers)
    # A JSON array is no request message: served JSON endpoints refuse it with a 400.
    headers["Content-Type"] = "application/json"
    return http.request(method, concrete(template), content=b"[]", headers=headers)


def is_routing_miss(response: httpx.Response) -> bool:
    if response.status_code not in (404, 405):
        return False
    if not response.headers.get("content-type", "").startswith("application/json"):
        return True
    return response.status_code == 405 or response.json().get("error_code") == (
        "ENDPOINT_NOT_FOUND"
    )


def test_the_enumeration_covers_the_protos_services() -> None:
    assert proto_endpoints() <= mlflow_routes()


def test_every_listed_route_is_one_mlflow_serves() -> None:
    stale = sorted(set(listed_unserved()) - mlflow_routes())
    assert stale == [], "mlflow no longer serves these: delete them from service/http/unserved.py"


def test_every_mlflow_route_is_served_or_listed(http: httpx.Client) -> None:
    unlooked, wrongly_listed, broken = [], [], []
    listed = listed_unserved()
    for method, template in sorted(mlflow_routes()):
        response = probe(http, method, template)
        route = f"{method} {template}"
        if (method, template) in listed:
            if not is_routing_miss(response):
                wrongly_listed.append(route)
                continue
            assert response.status_code == 404, route
            assert response.headers["content-type"] == "application/json", route
            body = response.json()
            assert body["error_code"] == "ENDPOINT_NOT_FOUND", route
            assert listed[(method, template)] in body["message"], route
        elif is_routing_miss(response):
            unlooked.append(route)
        elif template != "/" and (  # Stratus's own UI shell is the HTML page at /
            response.status_code >= 500 or "text/html" in response.headers.get("content-type", "")
        ):
            broken.append(f"{route}: {response.status_code}")
    assert unlooked == [], "serve these, or list them with a reason in service/http/unserved.py"
    assert wrongly_listed == [], "these are served now: delete them from service/http/unserved.py"
    assert broken == []


def test_compatibility_doc_is_current() -> None:
    doc = (REPO_ROOT / "docs" / "compatibility.md").read_text()
    assert doc == render(), (
        "regenerate: .venv/bin/python -m tests.support.mlflow_surface > docs/compatibility.md"
    )
