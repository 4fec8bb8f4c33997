"""A bound on the requests one process works on at once, so a flood cannot exhaust memory.

Each request in flight holds its parsed body (a 1,000-point batch is about half a
megabyte of Python objects) and waits for a thread and a database connection. Without a
bound, 500 concurrent batches hold all 500 at once. With one, at most
``STRATUS_MAX_CONCURRENT_REQUESTS`` are worked on; the others wait, unread, for up to
``STRATUS_REQUEST_QUEUE_SECONDS`` for a slot, then get a 503 with ``Retry-After``, which
the mlflow client retries. ``/health`` never waits, so the instance stays healthy for
Cloud Run while it is busy. On Cloud Run the bound equals the service's concurrency, so
the two agree (docs/configuration.md).
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import TemporarilyUnavailable
from service.http.responses import error_response

#: Paths that are answered whatever the load: the probes'.
ALWAYS_SERVED = frozenset({"/health"})


class ConcurrencyLimit:
    """ASGI middleware: at most ``limit`` HTTP requests in the app at once."""

    def __init__(self, app: ASGIApp, limit: int, queue_seconds: float) -> None:
        self.app = app
        self.queue_seconds = queue_seconds
        self._slots = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in ALWAYS_SERVED:
            await self.app(scope, receive, send)
            return
        try:
            await asyncio.wait_for(self._slots.acquire(), self.queue_seconds)
        except TimeoutError:
            busy = TemporarilyUnavailable("The server is busy; retry shortly.")
            await error_response(busy)(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()
