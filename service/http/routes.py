"""The route table: every path the server answers, by area."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount

from service.http import experiments, imports, logged_models, meta, registry, runs

#: Tracking and registry APIs live under both prefixes; MLflow's UI uses ``/ajax-api``.
API_PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
#: Bulk import of history with its own ids and timestamps (``stratus import --to``).
IMPORT_PREFIX = "/api/2.0/stratus/import"


def api_routes() -> list[BaseRoute]:
    return [*experiments.routes, *runs.routes, *logged_models.routes, *registry.routes]


def build_routes() -> list[BaseRoute]:
    mounted: list[BaseRoute] = [Mount(prefix, routes=api_routes()) for prefix in API_PREFIXES]
    mounted.append(Mount(IMPORT_PREFIX, routes=imports.routes))
    return [*meta.routes, *mounted]
