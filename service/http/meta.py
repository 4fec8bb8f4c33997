"""Health, version and capability probes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from service.http.responses import ok

#: The MLflow API level Stratus reports at ``/version``. The client reads it only to
#: decide how to export trace spans: from 3.4 on it pushes OTLP to ``/v1/traces``, which
#: Stratus ingests (service/http/otlp.py); below 3.4 it would not send spans at all. 3.4.0
#: is the lowest level that gets the OTLP path, so a newer client that gates some other
#: feature on a later server version never calls an endpoint Stratus lacks.
#: See docs/tracing.md.
MLFLOW_API_VERSION = "3.4.0"


async def health(_request: Request) -> Response:
    return PlainTextResponse("OK")


async def version(_request: Request) -> Response:
    return PlainTextResponse(MLFLOW_API_VERSION)


async def server_info(_request: Request) -> Response:
    return ok(
        {
            "store_type": "SqlStore",
            "workspaces_enabled": False,
            "trace_archival_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
        }
    )


routes = [
    Route("/health", health, methods=["GET", "HEAD"]),
    Route("/version", version, methods=["GET"]),
    Route("/api/3.0/mlflow/server-info", server_info, methods=["GET"]),
    Route("/ajax-api/3.0/mlflow/server-info", server_info, methods=["GET"]),
]
