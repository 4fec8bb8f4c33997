"""The web UI: one HTML shell at ``/`` and its assets under ``/static``.

The UI is a small single-page app in plain ES modules (no build step) that calls the
same REST API as the mlflow client; see docs/ui.md. The server renders nothing, so every
check the API makes applies to the UI as well.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"

#: Scripts and styles only from our own files: user text can never become code, even if
#: a rendering bug slipped a string into markup. Images may be blobs (artifact previews).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SHELL_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


class RevalidatedStaticFiles(StaticFiles):
    """Static files the browser revalidates on every use (a cheap 304), never stale."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


async def shell(_request: Request) -> Response:
    return FileResponse(STATIC_DIR / "index.html", headers=SHELL_HEADERS)


routes: list[BaseRoute] = [
    Route("/", shell, methods=["GET", "HEAD"]),
    Mount("/static", app=RevalidatedStaticFiles(directory=STATIC_DIR), name="static"),
]
