"""What the pinned mlflow serves and calls, and docs/compatibility.md rendered from it.

* :func:`mlflow_routes`: every ``(method, path)`` ``mlflow server`` answers: the Flask
  app (``mlflow.server.handlers.get_endpoints``, built from the protos' service
  definitions, plus the routes ``mlflow.server`` adds) and the FastAPI routers mounted
  in front of it. Paths use Starlette's ``{param}`` spelling.
* :data:`CLIENT_METHODS_NOT_CALLED`: the ``MlflowClient`` methods the suite does not call
  against Stratus, with the reason; tests/compat/test_client_methods.py calls the rest.
* :func:`render`: docs/compatibility.md. Regenerate with
  ``.venv/bin/python -m tests.support.mlflow_surface > docs/compatibility.md``.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from service.http import unserved

Route = tuple[str, str]
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def starlette_path(path: str) -> str:
    """Flask's ``<name>`` / ``<path:name>`` in Starlette's ``{name}`` / ``{name:path}``."""
    path = re.sub(r"<path:([^>]+)>", r"{\1:path}", path)
    return re.sub(r"<([^>]+)>", r"{\1}", path)


@cache
def mlflow_routes() -> frozenset[Route]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from mlflow.server import app as flask_app
        from mlflow.server.fastapi_app import create_fastapi_app

        fastapi_app = create_fastapi_app()
    found: set[Route] = set()
    for rule in flask_app.url_map.iter_rules():
        for method in (rule.methods or set()) - IGNORED_METHODS:
            found.add((method, starlette_path(rule.rule)))
    _walk_fastapi(fastapi_app.routes, "", found)
    return frozenset(found)


def _walk_fastapi(routes: Iterable[object], prefix: str, found: set[Route]) -> None:
    for route in routes:
        included = getattr(route, "include_context", None)  # a router included lazily
        if included is not None:
            _walk_fastapi(included.included_router.routes, prefix + included.prefix, found)
            continue
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path is not None and methods:  # the Flask mount has no methods
            for method in set(methods) - IGNORED_METHODS:
                found.add((method, prefix + path))


def proto_endpoints() -> frozenset[Route]:
    """The HTTP endpoints declared in the protos' services that ``mlflow server`` serves."""
    from mlflow.protos import databricks_pb2
    from mlflow.protos.mlflow_artifacts_pb2 import MlflowArtifactsService
    from mlflow.protos.model_registry_pb2 import ModelRegistryService
    from mlflow.protos.service_pb2 import MlflowService
    from mlflow.protos.webhooks_pb2 import WebhookService

    found: set[Route] = set()
    for service in (MlflowService, ModelRegistryService, MlflowArtifactsService, WebhookService):
        for method in service.DESCRIPTOR.methods:
            for endpoint in method.GetOptions().Extensions[databricks_pb2.rpc].endpoints:
                path = re.sub(r"{assessment\.trace_id}", "{trace_id}", endpoint.path)
                found.add((endpoint.method, starlette_path(f"/api/{endpoint.since.major}.0{path}")))
    return frozenset(found)


def listed_unserved() -> dict[Route, str]:
    return {(method, path): reason for method, path, reason in unserved.entries()}


def served_by_stratus() -> frozenset[Route]:
    """What Stratus serves of mlflow's routes (the enumeration test holds the server to it)."""
    return mlflow_routes() - set(listed_unserved())


# --- the client ------------------------------------------------------------------------------

LOCAL_ONLY = "works on the client alone: no request to a tracking server"

#: ``MlflowClient`` methods of the pinned client not called against Stratus, and why.
CLIENT_METHODS_NOT_CALLED: dict[str, str] = {
    "unlink_traces_from_run": (
        "the client's REST store raises NotImplementedError (no REST route; only the"
        " Databricks store unlinks), against `mlflow server` as against Stratus"
    ),
    "parse_prompt_uri": LOCAL_ONLY,
    "get_model_version_stages": LOCAL_ONLY,
    **dict.fromkeys(
        [
            "create_dataset",
            "get_dataset",
            "delete_dataset",
            "search_datasets",
            "set_dataset_tags",
            "delete_dataset_tag",
            "add_dataset_to_experiments",
            "remove_dataset_from_experiments",
        ],
        unserved.GENAI_DATASETS,
    ),
    **dict.fromkeys(
        [
            "create_mcp_server",
            "get_mcp_server",
            "update_mcp_server",
            "delete_mcp_server",
            "search_mcp_servers",
            "create_mcp_server_version",
            "get_mcp_server_version",
            "get_latest_mcp_server_version",
            "update_mcp_server_version",
            "delete_mcp_server_version",
            "search_mcp_server_versions",
            "refresh_mcp_server_version_tools",
            "set_mcp_server_alias",
            "delete_mcp_server_alias",
            "get_mcp_server_version_by_alias",
            "set_mcp_server_tag",
            "delete_mcp_server_tag",
            "set_mcp_server_version_tag",
            "delete_mcp_server_version_tag",
            "create_mcp_access_endpoint",
            "get_mcp_access_endpoint",
            "update_mcp_access_endpoint",
            "delete_mcp_access_endpoint",
            "search_mcp_access_endpoints",
        ],
        unserved.MCP,
    ),
    **dict.fromkeys(
        [
            "create_webhook",
            "get_webhook",
            "list_webhooks",
            "update_webhook",
            "delete_webhook",
            "test_webhook",
        ],
        unserved.WEBHOOKS,
    ),
    **dict.fromkeys(
        [
            "create_workspace",
            "get_workspace",
            "list_workspaces",
            "update_workspace",
            "delete_workspace",
            "get_workspace_store_uri",
        ],
        unserved.WORKSPACES,
    ),
}


def client_methods() -> list[str]:
    from mlflow import MlflowClient

    return sorted(
        name
        for name in dir(MlflowClient)
        if not name.startswith("_") and callable(getattr(MlflowClient, name))
    )


# --- docs/compatibility.md -------------------------------------------------------------------

#: The hand-written part of the page: divergences, MLflow's UI, the client's table header.
HEAD = Path(__file__).with_name("compatibility-head.md")


def _rows() -> list[tuple[str, str, str, str, str]]:
    """``(path, method, mlflow, stratus, notes)``, /api and /ajax-api twins merged."""
    listed = listed_unserved()
    merged: dict[tuple[str, str], dict[str, str | None]] = {}
    for method, path in sorted(mlflow_routes()):
        twin = "/api/" + path.removeprefix("/ajax-api/") if path.startswith("/ajax-api/") else path
        entry = merged.setdefault((twin, method), {})
        entry["ajax" if path.startswith("/ajax-api/") else "api"] = listed.get((method, path), "")
    rows = []
    for (path, method), prefixes in sorted(merged.items()):
        if path.startswith("/api/"):
            where = {
                frozenset({"api", "ajax"}): "served (`/api`, `/ajax-api`)",
                frozenset({"api"}): "served (`/api` only)",
                frozenset({"ajax"}): "served (`/ajax-api` only)",
            }[frozenset(prefixes)]
        else:
            where = "served"
        reasons = {r for r in prefixes.values() if r}
        stratus = "not served" if reasons else "served"
        shown = path if "ajax" not in prefixes or "api" in prefixes else "/ajax-api/" + path[5:]
        rows.append((shown, method, where, stratus, "; ".join(sorted(reasons))))
    return rows


def render() -> str:
    lines = [HEAD.read_text().rstrip("\n")]
    for method, reason in sorted(CLIENT_METHODS_NOT_CALLED.items()):
        lines.append(f"| `{method}` | {reason} |")
    served = sum(1 for row in _rows() if row[3] == "served")
    lines += [
        "",
        "## Every route",
        "",
        f"{len(_rows())} routes; Stratus serves {served}.",
        "",
        "| Endpoint | mlflow 3.17 | Stratus | Notes |",
        "|---|---|---|---|",
    ]
    for path, method, where, stratus, notes in _rows():
        lines.append(f"| `{method} {path}` | {where} | {stratus} | {notes} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
