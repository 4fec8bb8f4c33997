"""service/http/signin.py in-process: the sign-in page, token sign-in, sessions and sign-out."""

from __future__ import annotations

import re

import httpx
from starlette.testclient import TestClient

from service.auth.sessions import COOKIE
from tests.service.http.conftest import ADMIN

TOKENS = "/api/2.0/stratus/tokens"
CURRENT = "/api/2.0/mlflow/users/current"
#: TestClient's own origin: what a browser on this server's pages sends.
SAME_ORIGIN = {"Origin": "http://testserver"}


def _token(auth_api: TestClient, admin_headers: dict[str, str]) -> tuple[str, str]:
    """A fresh access token of the admin's (so a test may revoke it), and its id."""
    created = auth_api.post(f"{TOKENS}/create", json={"name": "sign-in"}, headers=admin_headers)
    body = created.json()
    return body["token"], body["access_token"]["token_id"]


def _session(response: httpx.Response) -> str:
    """The session cookie a sign-in set, checked for the attributes a session needs."""
    (set_cookie,) = response.headers.get_list("set-cookie")
    name, _, rest = set_cookie.partition("=")
    value, *attributes = rest.split("; ")
    assert name == COOKIE and value
    assert {"Path=/", "HttpOnly", "Secure", "SameSite=Lax"} <= set(attributes)
    return value


def _sign_in(auth_api: TestClient, token: str, next_path: str = "/") -> httpx.Response:
    return auth_api.post(
        "/auth/login",
        data={"token": token, "next": next_path},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )


def test_the_page_keeps_a_local_next_and_drops_another_origin(auth_api: TestClient) -> None:
    page = auth_api.get("/auth/login", params={"next": "/#/experiments/1?x=<b>"})
    assert page.status_code == 200 and "Sign in to Stratus" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert 'value="/#/experiments/1?x=&lt;b&gt;"' in page.text
    assert "<b>" not in page.text
    for elsewhere in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
        page = auth_api.get("/auth/login", params={"next": elsewhere})
        assert re.search(r'name="next" value="/"', page.text), elsewhere
    # No OAuth client is configured: no Google button, and /auth/google goes back here.
    assert "Sign in with Google" not in page.text
    google = auth_api.get("/auth/google", follow_redirects=False)
    assert google.status_code == 303 and google.headers["location"] == "/auth/login"


def test_a_token_opens_a_session_and_returns_to_next(
    auth_api: TestClient, admin_headers: dict[str, str]
) -> None:
    signed_in = _sign_in(auth_api, _token(auth_api, admin_headers)[0], "/#/experiments")
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/#/experiments"
    cookie = {"Cookie": f"{COOKIE}={_session(signed_in)}"}
    current = auth_api.get(CURRENT, headers=cookie).json()
    assert current["user"]["username"] == ADMIN and current["auth_method"] == "session"


def test_bad_sign_ins_stay_on_the_page_with_a_reason(auth_api: TestClient) -> None:
    empty = _sign_in(auth_api, "  ")
    assert empty.status_code == 400 and "Paste a token" in empty.text
    unknown = _sign_in(auth_api, "stratus_pat_not-a-real-token")
    assert unknown.status_code == 401 and "Unknown access token" in unknown.text
    assert "set-cookie" not in unknown.headers
    cross_site = auth_api.post(
        "/auth/login",
        data={"token": "anything"},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert cross_site.status_code == 403 and "another site" in cross_site.text


def test_signing_out_ends_the_session_on_the_server(
    auth_api: TestClient, admin_headers: dict[str, str]
) -> None:
    value = _session(_sign_in(auth_api, _token(auth_api, admin_headers)[0]))
    cookie = {"Cookie": f"{COOKIE}={value}"}
    # A cookie-authenticated change from another origin is refused before anything else.
    cross_site = auth_api.post("/auth/logout", headers={**cookie, "Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    assert auth_api.get(CURRENT, headers=cookie).status_code == 200
    out = auth_api.post("/auth/logout", headers={**cookie, **SAME_ORIGIN}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/auth/login"
    assert out.headers["set-cookie"].startswith(f"{COOKIE}=; ")
    assert "Max-Age=0" in out.headers["set-cookie"]
    ended = auth_api.get(CURRENT, headers=cookie)
    assert ended.status_code == 401 and ended.json()["error_code"] == "UNAUTHENTICATED"


def test_a_session_ends_with_the_token_it_was_opened_with(
    auth_api: TestClient, admin_headers: dict[str, str]
) -> None:
    token, token_id = _token(auth_api, admin_headers)
    cookie = {"Cookie": f"{COOKIE}={_session(_sign_in(auth_api, token))}"}
    assert auth_api.get(CURRENT, headers=cookie).status_code == 200
    revoked = auth_api.post(f"{TOKENS}/revoke", json={"token_id": token_id}, headers=admin_headers)
    assert revoked.status_code == 200
    assert auth_api.get(CURRENT, headers=cookie).status_code == 401


def test_with_auth_off_the_pages_send_the_browser_home(api: TestClient) -> None:
    for response in (
        api.get("/auth/login", follow_redirects=False),
        api.post("/auth/login", data={"token": "x"}, follow_redirects=False),
        api.get("/auth/google", follow_redirects=False),
    ):
        assert response.status_code == 303, response.request.url
        assert response.headers["location"] in ("/", "/auth/login")
