"""The ASGI middleware that authenticates every request and enforces its route's rule.

Order of work for a request: find the route's rule (service/auth/routing.py); public
routes pass untouched. Otherwise authenticate (401 without valid credentials, 403 for a
valid identity that is not a member), then authorize: admin-only routes check the caller
is an admin, resource routes locate the experiments or models the request names and
check the caller's permission on each. The handler then runs with ``request.state.caller``
set; a request no route serves still needs credentials before it can learn that.

Failures use MLflow's JSON error shape. A browser navigating to a page without a session
is redirected to the sign-in page instead.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import orjson
from starlette.datastructures import Headers
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth.access import Access
from service.auth.locate import RequestView, Unlocatable
from service.auth.permissions import Caller
from service.auth.routing import RouteTable
from service.auth.rules import MEMBER, Gate, OnSuccess, Rule
from service.errors import PermissionDenied, StratusError, Unauthenticated
from service.http.responses import error_response

log = logging.getLogger(__name__)

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
            caller = await access.authenticate(scope)
            await authorize(rule, caller, view, access)
        except Unauthenticated as exc:
            await _unauthenticated(scope, exc)(scope, receive, send)
            return
        except StratusError as exc:
            await error_response(exc)(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        if rule.on_success is not None:
            send = _after_success(send, rule.on_success, access, caller)
        await self.app(scope, view.receive(), send)


async def authorize(rule: Rule, caller: Caller, view: RequestView, access: Access) -> None:
    """PermissionDenied unless ``caller`` may do what ``rule`` guards."""
    if rule.gate is Gate.MEMBER or caller.principal.is_admin:
        return
    if rule.gate is Gate.ADMIN:
        raise PermissionDenied("Permission denied: only admins may do this.")
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


def _after_success(send: Send, on_success: OnSuccess, access: Access, caller: Caller) -> Send:
    """Hold a (small, JSON) response until the rule's follow-up has run on its success.

    Used for creations: the creator's MANAGE grant exists before the client hears back.
    """
    held: list[Message] = []
    body = bytearray()

    async def wrapped(message: Message) -> None:
        held.append(message)
        if message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            status = held[0]["status"] if held[0]["type"] == "http.response.start" else 0
            if status == 200:
                try:
                    await on_success(access, caller, orjson.loads(body))
                except Exception:  # the resource exists; its creator lacks MANAGE
                    log.exception("Could not grant MANAGE to the creator %s", caller.principal)
            for queued in held:
                await send(queued)
            held.clear()

    return wrapped
