"""The ASGI server: hypercorn, serving HTTP/1.1 and h2c on one port, in one process.

Cloud Run refuses HTTP/1 requests over 32 MiB to a container; with the port named ``h2c``
it forwards every request as HTTP/2 with prior knowledge instead, and the limit is gone,
while its probes still speak HTTP/1.1 to the same port. Locally, in Docker and in the
tests the same server runs with the same settings. SIGTERM drains in-flight requests for
``shutdown_grace_seconds``. Why hypercorn: docs/benchmarks.md ("The server and the
driver").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config
from hypercorn.typing import ASGIFramework
from starlette.types import ASGIApp

from service.config import Settings


def hypercorn_config(settings: Settings) -> Config:
    config = Config()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    config.bind = [f"{host}:{settings.port}"]
    config.graceful_timeout = float(settings.shutdown_grace_seconds)
    config.include_server_header = False
    # Cloud Run keeps its HTTP/2 connections open; hypercorn's default would end each
    # after 1000 requests (GOAWAY), which some clients do not retry.
    config.keep_alive_max_requests = 2**31
    # A burst of new connections (hundreds of clients at once) waits in the kernel's
    # queue instead of being reset; hypercorn's default queue is 100 (the kernel caps it
    # at net.core.somaxconn).
    config.backlog = 2048
    # Our logging configuration (service.logs) formats these like every other line.
    config.errorlog = logging.getLogger("hypercorn.error")
    config.accesslog = logging.getLogger("hypercorn.access") if settings.access_log else None
    return config


def serve(app: ASGIApp, settings: Settings) -> None:
    """Run ``app`` until SIGTERM/SIGINT, then drain. Blocks; hypercorn installs the handlers."""
    # The same ASGI callable: Starlette types its messages as mappings, hypercorn as TypedDicts.
    framework = cast(ASGIFramework, app)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(hypercorn_serve(framework, hypercorn_config(settings)))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # uvloop is not built for every platform
        return None
    return uvloop.new_event_loop
