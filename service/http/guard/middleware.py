"""The ASGI middleware that authenticates every request and enforces its route's rule.

Order of work for a request: find the route's rule (service/http/guard/routing.py); public
routes pass untouched. Otherwise authenticate (401 without valid credentials, 403 for a
valid identity that is not a member), then authorize: admin-only routes check the caller
is an admin, resource routes locate the experiments or models the request names and
check the caller's permission on each. The handler then runs with ``request.state.caller``
set; a request no route serves still needs credentials before it can learn that.

Failures use MLflow's JSON error shape. A browser navigating to a page without a session
is redirected to the sign-in page instead.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.auth.access import Access
from service.auth.permissions import Caller
from service.errors import PermissionDenied, StratusError, Unauthenticated
from service.http.guard.locate import RequestView, Unlocatable
from service.http.guard.routing import RouteTable
from service.http.guard.rules import MEMBER, Gate, Rule
from service.http.responses import error_response
from service.store.entities.auth import ResourceKind

API_PREFIXES = ("/api/", "/ajax-api/")
SIGN_IN_PATH = "/auth/login"


class AuthMiddleware:
    def __init__(self, app: ASGIApp, table: RouteTable) -> None:
        self.app = app
        self.table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        match = self.table.match(scope["method"], scope["path"])
        rule = match.rule if match else MEMBER
        if rule.gate is Gate.PUBLIC:
            await self.app(scope, receive, send)
            return
        access: Access = scope["app"].state.auth
        view = RequestView(scope, receive, match.path_params if match else {})
        try:
            caller = await authorize(rule, await access.authenticate(scope), view, access)
        except Unauthenticated as exc:
            await _unauthenticated(scope, exc)(scope, receive, send)
            return
        except StratusError as exc:
            await error_response(exc)(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, view.receive(), send)


async def authorize(rule: Rule, caller: Caller, view: RequestView, access: Access) -> Caller:
    """The caller the handler runs as; PermissionDenied unless they may do what ``rule``
    guards.

    Grants come from a short-lived cache, except on registered models (keyed by a name
    that a rename or delete moves): a rule on those reads the caller's grants afresh. A
    refusal on cached grants is checked again on fresh ones, so a grant made through
    another instance (a creator's MANAGE, say) takes effect at once.
    """
    if caller.principal.is_admin or rule.gate is Gate.PUBLIC:
        return caller
    if rule.kind is ResourceKind.REGISTERED_MODEL:
        caller = await access.refreshed(caller)
    if rule.gate is Gate.MEMBER:
        return caller
    if rule.gate is Gate.ADMIN:
        raise PermissionDenied("Permission denied: only admins may do this.")
    try:
        await _check(rule, caller, view, access)
    except PermissionDenied:
        if caller.fresh:
            raise
        caller = await access.refreshed(caller)
        await _check(rule, caller, view, access)
    return caller


async def _check(rule: Rule, caller: Caller, view: RequestView, access: Access) -> None:
    assert rule.kind is not None and rule.level is not None and rule.locate is not None
    try:
        keys = await rule.locate(view, access)
    except Unlocatable as exc:
        raise PermissionDenied(f"Permission denied: {exc} Only admins may touch it.") from None
    for key in keys:
        if not caller.permission(rule.kind, key).allows(rule.level):
            raise PermissionDenied(
                f"Permission denied: {rule.level.name} on {rule.kind.value} '{key}' is required."
            )
    if rule.also is not None:
        await rule.also(view, access, caller)


def _unauthenticated(scope: Scope, exc: Unauthenticated) -> Response:
    """A browser page load goes to the sign-in page; anything else gets a JSON 401."""
    path = scope["path"]
    headers = Headers(scope=scope)
    navigating = (
        scope["method"] in ("GET", "HEAD")
        and not path.startswith(API_PREFIXES)
        and "text/html" in headers.get("accept", "")
    )
    if navigating:
        target = path + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
        return RedirectResponse(f"{SIGN_IN_PATH}?next={quote(target, safe='')}", 303)
    response = error_response(exc)
    response.headers["WWW-Authenticate"] = 'Bearer realm="stratus"'
    return response
