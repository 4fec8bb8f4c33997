"""The route table: every path the server answers, by area."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Mount

from service.http import (
    artifacts,
    auth,
    experiments,
    imports,
    logged_models,
    meta,
    metric_histories,
    otlp,
    owned_artifacts,
    registry,
    runs,
    signin,
    traces,
    ui_api,
    unserved,
)
from service.ui import routes as ui

#: Tracking and registry APIs live under both prefixes; MLflow's UI uses ``/ajax-api``.
API_PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
#: The proxied artifact API, which ``mlflow-artifacts:`` URIs resolve to.
ARTIFACT_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")
#: JSON endpoints only the web UI uses (JSON 404s, like the rest of ``/ajax-api``).
UI_API_PREFIX = "/ajax-api/2.0/stratus"
#: Bulk import of history with its own ids and timestamps (``stratus import --to``).
IMPORT_PREFIX = "/api/2.0/stratus/import"
#: MLflow 3's API: traces and assessments (some also under 2.0), and the auth API
#: (``users/permissions/*``).
V3_PREFIXES = ("/api/3.0/mlflow", "/ajax-api/3.0/mlflow")
#: Stratus's personal access tokens.
TOKEN_PREFIXES = ("/api/2.0/stratus/tokens", "/ajax-api/2.0/stratus/tokens")


def api_routes() -> list[BaseRoute]:
    return [
        *experiments.routes,
        *runs.routes,
        *metric_histories.routes,
        *owned_artifacts.api_routes,
        *logged_models.routes,
        *registry.routes,
        *traces.v2_routes,
        *auth.routes,
    ]


def build_routes() -> list[BaseRoute]:
    # Inside each mount, the routes of mlflow server that Stratus lists as unserved come
    # last: a served route always wins, and an unserved one answers JSON ENDPOINT_NOT_FOUND.
    areas: list[tuple[tuple[str, ...], Sequence[BaseRoute]]] = [
        (API_PREFIXES, api_routes()),
        (ARTIFACT_PREFIXES, artifacts.routes),
        (V3_PREFIXES, [*traces.routes, *auth.v3_routes]),
        (TOKEN_PREFIXES, auth.token_routes),
        ((UI_API_PREFIX,), ui_api.routes),
        ((IMPORT_PREFIX,), imports.routes),
    ]
    mounted: list[BaseRoute] = [
        Mount(prefix, routes=[*routes, *unserved.under(prefix)])
        for prefixes, routes in areas
        for prefix in prefixes
    ]
    everywhere_else = unserved.elsewhere(prefix for prefixes, _ in areas for prefix in prefixes)
    root = [*meta.routes, *otlp.routes, *signin.routes, *owned_artifacts.root_routes]
    # The UI last: an unknown API path stays a JSON 404 rather than reaching the UI.
    return [*root, *mounted, *everywhere_else, *ui.routes]
