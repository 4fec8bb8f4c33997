"""Serving HTTP/2 cleartext (h2c) next to HTTP/1.1, for Cloud Run's end-to-end HTTP/2.

Cloud Run refuses HTTP/1 requests over 32 MiB to a container; with the port named ``h2c``
it forwards every request as HTTP/2 with prior knowledge instead, and the limit is gone.
uvicorn does not speak h2c, so ``STRATUS_HTTP2=true`` runs the app on hypercorn: one
process, SIGTERM drains in-flight requests for ``shutdown_grace_seconds``, and plain
HTTP/1.1 (health checks, curl) keeps working on the same port. The measurements behind
the choice are in docs/artifacts.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

from hypercorn.asyncio import serve
from hypercorn.config import Config
from hypercorn.middleware import ProxyFixMiddleware
from hypercorn.typing import ASGIFramework
from starlette.types import ASGIApp

from service.config import Settings


def hypercorn_config(settings: Settings) -> Config:
    config = Config()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    config.bind = [f"{host}:{settings.port}"]
    config.graceful_timeout = float(settings.shutdown_grace_seconds)
    config.include_server_header = False
    # Our logging configuration (service.logs) formats these like every other line.
    config.errorlog = logging.getLogger("hypercorn.error")
    config.accesslog = logging.getLogger("hypercorn.access") if settings.access_log else None
    return config


def serve_h2c(app: ASGIApp, settings: Settings) -> None:
    """Run ``app`` until SIGTERM/SIGINT, then drain. Blocks; hypercorn installs the handlers."""
    # Behind Cloud Run's front end: take the client address and scheme from X-Forwarded-*,
    # as uvicorn's proxy_headers does on the HTTP/1.1 path.
    # The same ASGI callable: Starlette types its messages as mappings, hypercorn as TypedDicts.
    framework = cast(ASGIFramework, app)
    proxied = ProxyFixMiddleware(framework, mode="legacy", trusted_hops=1)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve(proxied, hypercorn_config(settings)))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # uvloop is not built for every platform
        return None
    return uvloop.new_event_loop
