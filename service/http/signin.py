"""Browser sign-in: the page at /auth/login, Google OAuth, and sign-out.

Three ways in, whichever the deployment has:

* **Google** (``/auth/google``): when the team configured an OAuth client.
* **A token**, pasted into the sign-in page: a Stratus access token (``stratus token
  create``) or a Google ID token (``gcloud auth print-identity-token``). Works anywhere.
* **IAP**: behind Identity-Aware Proxy the browser never sees this page; every request
  carries IAP's signed assertion (service/auth/access.py).

Each ends with a recorded session and its cookie (service/auth/sessions.py) and a redirect
back to the page that asked; signing out ends the session on the server. The page itself is
service/ui/templates/signin.html. With auth off, these pages just send the browser home.
"""

from __future__ import annotations

import html
import secrets
from pathlib import Path
from string import Template
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from service.auth.access import Access, origin_of
from service.auth.sessions import COOKIE, clear_cookie, is_same_origin, set_cookie
from service.errors import StratusError
from service.http.parsing import read_body

OAUTH_COOKIE = "__Host-stratus-oauth"
OAUTH_STATE_SECONDS = 600
CALLBACK_PATH = "/auth/google/callback"
FORM_LIMIT_BYTES = 64 * 1024
PAGE = Template(
    (Path(__file__).parent.parent / "ui" / "templates" / "signin.html").read_text("utf-8")
)

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _access(request: Request) -> Access | None:
    found: Access | None = getattr(request.app.state, "auth", None)
    return found


def safe_next(raw: str | None) -> str:
    """Only a path on this server: never another origin (``//host``, ``/\\host``)."""
    if not raw or not raw.startswith("/") or raw.startswith(("//", "/\\")):
        return "/"
    return raw


async def login_page(request: Request) -> Response:
    access = _access(request)
    if access is None:
        return RedirectResponse("/", 303)
    return _page(access, safe_next(request.query_params.get("next")))


async def login_with_token(request: Request) -> Response:
    access = _access(request)
    if access is None:
        return RedirectResponse("/", 303)
    form = await _form(request)
    next_path = safe_next(form.get("next"))
    own_origin = origin_of(request.scope, request.headers)
    if not is_same_origin("POST", own_origin, request.headers):
        return _page(access, next_path, "This sign-in form was sent from another site.", 403)
    credential = form.get("token", "").strip()
    if not credential:
        return _page(access, next_path, "Paste a token to sign in.", 400)
    try:
        identity = await access.verify_credential(credential)
        await access.principal(identity.username)
    except StratusError as exc:
        return _page(access, next_path, exc.message, exc.http_status)
    via = "token" if identity.token_id else "google"
    return await _signed_in(access, identity.username, via, next_path, identity.token_id)


async def google_start(request: Request) -> Response:
    access = _access(request)
    if access is None or access.oauth is None:
        return RedirectResponse("/auth/login", 303)
    state, nonce, verifier = (secrets.token_urlsafe(24) for _ in range(3))
    next_path = safe_next(request.query_params.get("next"))
    pending = {"s": state, "n": nonce, "v": verifier, "next": next_path}
    target = access.oauth.authorization(_callback_url(request), state, nonce, verifier)
    response = RedirectResponse(target, 303)
    value = access.sessions.state_cookie(pending)
    response.headers.append("Set-Cookie", set_cookie(OAUTH_COOKIE, value, OAUTH_STATE_SECONDS))
    return response


async def google_callback(request: Request) -> Response:
    access = _access(request)
    if access is None or access.oauth is None:
        return RedirectResponse("/auth/login", 303)
    pending = access.sessions.state(request.cookies.get(OAUTH_COOKIE, ""), OAUTH_STATE_SECONDS)
    state = request.query_params.get("state")
    code = request.query_params.get("code")
    if (
        pending is None
        or not {"s", "n", "v", "next"} <= pending.keys()
        or not state
        or not secrets.compare_digest(state, pending["s"])
    ):
        return _page(access, "/", "The sign-in expired or was not started here; try again.", 400)
    next_path = safe_next(pending["next"])
    if not code:
        reason = request.query_params.get("error", "no authorization code")
        return _page(access, next_path, f"Google did not sign you in: {reason}", 401)
    try:
        id_token = await run_in_threadpool(
            access.oauth.exchange, code, _callback_url(request), pending["v"]
        )
        identity = await run_in_threadpool(access.id_tokens.verify, id_token, nonce=pending["n"])
        await access.principal(identity.email)
    except StratusError as exc:
        return _page(access, next_path, exc.message, exc.http_status)
    response = await _signed_in(access, identity.email, "google", next_path)
    response.headers.append("Set-Cookie", clear_cookie(OAUTH_COOKIE))
    return response


async def logout(request: Request) -> Response:
    """Sign out: the session ends on the server, not just in this browser."""
    own_origin = origin_of(request.scope, request.headers)
    if not is_same_origin("POST", own_origin, request.headers):
        return Response("Cross-site request refused.", 403)
    access = _access(request)
    cookie = request.cookies.get(COOKIE)
    if access is not None and cookie:
        await access.end_session(cookie)
    response = RedirectResponse("/auth/login", 303)
    response.headers.append("Set-Cookie", clear_cookie(COOKIE))
    return response


async def _signed_in(
    access: Access, username: str, via: str, next_path: str, token_id: str | None = None
) -> Response:
    response = RedirectResponse(next_path, 303)
    value = await access.open_session(username, via, token_id)
    response.headers.append("Set-Cookie", set_cookie(COOKIE, value, access.sessions.max_age))
    return response


async def _form(request: Request) -> dict[str, str]:
    """The sign-in form (URL-encoded; a token is a few kilobytes at most)."""
    body = await read_body(request, FORM_LIMIT_BYTES)
    return dict(parse_qsl(body.decode("utf-8", "replace")))


def _callback_url(request: Request) -> str:
    return f"{origin_of(request.scope, request.headers)}{CALLBACK_PATH}"


def _page(access: Access, next_path: str, error: str = "", status: int = 200) -> Response:
    google = ""
    if access.oauth is not None:
        href = html.escape(f"/auth/google?next={next_path}")
        google = f'<p><a class="button" href="{href}">Sign in with Google</a></p><p>or</p>'
    alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    body = PAGE.substitute(google=google, error=alert, next=html.escape(next_path))
    return HTMLResponse(body, status, headers=PAGE_HEADERS)


routes = [
    Route("/auth/login", login_page, methods=["GET"]),
    Route("/auth/login", login_with_token, methods=["POST"]),
    Route("/auth/google", google_start, methods=["GET"]),
    Route(CALLBACK_PATH, google_callback, methods=["GET"]),
    Route("/auth/logout", logout, methods=["POST"]),
]
