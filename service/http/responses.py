"""JSON responses and the error handlers that render every failure in MLflow's shape."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from service.errors import HTTP_STATUS, StratusError, TemporarilyUnavailable, TooManyRequests

log = logging.getLogger(__name__)

API_PREFIXES = ("/api/", "/ajax-api/")


def ok(payload: dict[str, Any] | None = None) -> Response:
    """A 200 with a proto3-JSON body; unset top-level fields are left out, ``{}`` if empty."""
    body = {k: v for k, v in (payload or {}).items() if v is not None and v != []}
    return Response(orjson.dumps(body), media_type="application/json")


def error_body(
    error_code: str, message: str, status: int, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps({"error_code": error_code, "message": message}),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def error_response(exc: StratusError) -> Response:
    """The one rendering of a StratusError; a 503 or a 429 says when to try again."""
    headers = None
    if isinstance(exc, TemporarilyUnavailable | TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    return error_body(exc.error_code, exc.message, exc.http_status, headers)


async def on_stratus_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StratusError)
    return error_response(exc)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    """Routing errors: JSON for the API, so the client sees MLflow codes; text elsewhere.

    An unknown API path answers ``ENDPOINT_NOT_FOUND``, the code on which the mlflow
    client's fallbacks depend.
    """
    assert isinstance(exc, HTTPException)
    if not request.url.path.startswith(API_PREFIXES):
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 404:
        return error_body("ENDPOINT_NOT_FOUND", f"No API endpoint at {request.url.path}", 404)
    if exc.status_code == 405:
        return error_body(
            "BAD_REQUEST", f"Method {request.method} is not allowed for {request.url.path}", 405
        )
    code = next((c for c, s in HTTP_STATUS.items() if s == exc.status_code), "BAD_REQUEST")
    return error_body(code, str(exc.detail), exc.status_code)


async def on_unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug: log it with the request, answer MLflow's INTERNAL_ERROR."""
    log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_body("INTERNAL_ERROR", "Internal server error; see the server log.", 500)
