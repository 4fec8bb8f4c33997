"""One ASGI server around the same app, for ``python -m bench.stack_serve NAME``.

The app is built exactly as ``stratus serve`` builds it (settings from the environment);
only the server around it changes. uvicorn serves HTTP/1.1 only; hypercorn and granian
serve HTTP/1.1 and h2c (prior knowledge) on one port.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

from service.app import create_app
from service.config import Settings
from service.logs import configure_logging
from service.store.db import open_database
from tests.support.cloudsql import LoopbackConnector


def build() -> Any:
    """The app as ``stratus serve`` builds it (granian imports it by name, in its worker)."""
    configure_logging("warning", "plain")
    settings = Settings()
    if settings.cloud_sql_instance:
        return create_app(settings, open_database(settings, LoopbackConnector))
    return create_app(settings)


def main(name: str) -> None:
    settings = Settings()
    if name != "granian":
        app = build()
    if name == "uvicorn":
        import uvicorn

        uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)
    elif name == "hypercorn":  # exactly as `stratus serve` runs it
        from service.server import serve

        serve(app, settings)
    elif name == "granian":
        from granian.constants import HTTPModes, Interfaces, Loops
        from granian.server import Server

        Server(
            "bench.stack_serve:build",
            factory=True,
            address=settings.host,
            port=settings.port,
            interface=Interfaces.ASGI,
            http=HTTPModes.auto,
            loop=Loops.uvloop,
            workers=1,
            log_enabled=False,
        ).serve()
    elif name == "granian-embed":
        from granian.constants import HTTPModes, Interfaces
        from granian.server.embed import Server as Embedded

        async def serve() -> None:
            server = Embedded(
                app,
                address=settings.host,
                port=settings.port,
                interface=Interfaces.ASGI,
                http=HTTPModes.auto,
                log_enabled=False,
            )
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, server.stop)
            await server.serve()

        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(serve())
    else:
        raise SystemExit(f"unknown server {name}")


if __name__ == "__main__":
    main(sys.argv[1])
