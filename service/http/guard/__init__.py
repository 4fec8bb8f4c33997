"""The guard in front of every route: who is calling, and may they (docs/auth.md).

It reads a request the way its handler will (the same messages and parsers) and asks the
access-control domain, :mod:`service.auth`, for the answer. :func:`install` adds it when
auth is on; nothing is imported until then.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette

log = logging.getLogger(__name__)


def install(app: Starlette) -> None:
    """Put every route behind the auth middleware (routes without a rule: admins only)."""
    from service.http.guard.middleware import AuthMiddleware
    from service.http.guard.routing import RouteTable
    from service.http.guard.rules import RULES

    table = RouteTable(app.routes, RULES)
    for spec in table.unruled:
        log.error("No permission rule for %s %s: only admins may call it", *spec.key)
    app.add_middleware(AuthMiddleware, table=table)
