"""The route table: every path the server answers, by area."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount

from service.auth import signin
from service.http import (
    artifacts,
    auth,
    experiments,
    imports,
    logged_models,
    meta,
    otlp,
    registry,
    runs,
    traces,
    ui_api,
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
        *logged_models.routes,
        *registry.routes,
        *traces.v2_routes,
        *auth.routes,
    ]


def build_routes() -> list[BaseRoute]:
    mounted: list[BaseRoute] = [Mount(prefix, routes=api_routes()) for prefix in API_PREFIXES]
    mounted += [Mount(prefix, routes=artifacts.routes) for prefix in ARTIFACT_PREFIXES]
    # One mount per prefix: a mount answers 404 for any path under it that it lacks.
    v3 = [*traces.routes, *auth.v3_routes]
    mounted += [Mount(prefix, routes=v3) for prefix in V3_PREFIXES]
    mounted += [Mount(prefix, routes=auth.token_routes) for prefix in TOKEN_PREFIXES]
    mounted.append(Mount(UI_API_PREFIX, routes=ui_api.routes))
    mounted.append(Mount(IMPORT_PREFIX, routes=imports.routes))
    # The UI last: an unknown API path stays a JSON 404 rather than reaching the UI.
    return [*meta.routes, *otlp.routes, *signin.routes, *mounted, *ui.routes]
