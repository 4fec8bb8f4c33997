"""The application factory: settings in, a Starlette app out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DataError, IntegrityError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from service import auth
from service.artifacts import open_artifact_store
from service.config import Settings
from service.errors import InvalidParameterValue, StratusError
from service.http import compression, guard
from service.http.draining import DrainUnreadBody
from service.http.forwarded import ForwardedHeaders
from service.http.limits import ConcurrencyLimit
from service.http.responses import (
    on_http_exception,
    on_stratus_error,
    on_unexpected_error,
)
from service.http.routes import build_routes
from service.store import Store, migrate
from service.store.db import Database, open_database
from service.store.startup import wait_for_database

log = logging.getLogger(__name__)


def create_app(settings: Settings, database: Database | None = None) -> Starlette:
    """Build the ASGI app. The database is opened (and migrated) when the app starts."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = database or open_database(settings)
        if settings.migrate_on_start:
            # Migrating needs the database: wait for it (still booting, or IAM still
            # propagating on a first deploy). Without migrations the server starts at
            # once and answers 503 until the database is there.
            wait_for_database(db, settings.db_startup_wait_seconds)
            migrate.upgrade(db)
        app.state.store = Store.over(db)
        if settings.auth_is_enabled:
            app.state.auth = auth.open_access(settings, db)
        app.state.artifacts = open_artifact_store(settings.resolved_artifact_root)
        log.info(
            "Stratus is ready (database: %s, artifacts: %s)",
            db.engine.url.render_as_string(hide_password=True),
            app.state.artifacts.root,
        )
        try:
            yield
        finally:
            db.dispose()

    app = Starlette(
        routes=build_routes(),
        lifespan=lifespan,
        exception_handlers={
            StratusError: on_stratus_error,
            HTTPException: on_http_exception,
            DataError: _on_data_error,
            IntegrityError: _on_data_error,
            Exception: on_unexpected_error,
        },
    )
    app.state.settings = settings
    if settings.auth_is_enabled:
        guard.install(app)
    else:
        auth.warn_disabled(settings)
    compression.install(app)
    app.add_middleware(
        ConcurrencyLimit,
        limit=settings.max_concurrent_requests,
        queue_seconds=settings.request_queue_seconds,
    )
    app.add_middleware(DrainUnreadBody)
    # Added last, so outermost: auth and every handler see the client behind the proxy.
    app.add_middleware(ForwardedHeaders, trusted=settings.forwarded_allow_ips)
    return app


async def _on_data_error(request: Request, exc: Exception) -> Response:
    """A value the database refused (too long, out of range): the caller's mistake, a 400.

    The driver's text (it can quote SQL and other rows' values) goes to the log only.
    """
    log.info("The database refused a value on %s: %s", request.url.path, getattr(exc, "orig", exc))
    return await on_stratus_error(
        request,
        InvalidParameterValue(
            "Invalid value: the database refused it (too long, out of range or a duplicate)."
        ),
    )
