"""Browser sign-in: the token page, Google OAuth (PKCE, state, nonce), cookies and CSRF.

In process, over ``https://stratus.test`` (so the Secure cookie travels as in a browser),
with the fake Google for keys and for the OAuth token endpoint.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from service.app import create_app
from service.auth import tokens
from service.auth.access import Access
from service.auth.google_oauth import code_challenge
from service.auth.sessions import COOKIE
from service.config import Settings
from service.http.signin import OAUTH_COOKIE
from tests.auth.conftest import ADMIN, MEMBERS, OUTSIDER
from tests.auth.fake_google import FakeGoogle

ORIGIN = "https://stratus.test"
WEB_CLIENT = "web-client.apps.googleusercontent.com"
ALICE = MEMBERS[0]


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def session(google: FakeGoogle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One running app (lifespan entered once) and a client that speaks to it over https."""
    settings = Settings(
        auth_enabled=True,
        admins=(ADMIN,),
        members=MEMBERS,
        data_dir=Path(tmp_path_factory.mktemp("browser")),
        google_certs_url=f"{google.url}/certs",
        oauth_client_id=WEB_CLIENT,
        oauth_client_secret="web-client-secret",
        session_secret="x" * 32,
    )
    with TestClient(create_app(settings), base_url=ORIGIN, follow_redirects=False) as client:
        access: Access = client.app.state.auth
        assert access.oauth is not None
        access.oauth = dataclasses.replace(access.oauth, token_url=f"{google.url}/token")
        yield client


@pytest.fixture
def app(session: TestClient) -> Starlette:
    return session.app


@pytest.fixture
def browser(session: TestClient) -> TestClient:
    """The client with an empty cookie jar: a browser that has not signed in."""
    session.cookies.clear()
    return session


def _token_for(app: Starlette, email: str) -> tokens.IssuedToken:
    return tokens.issue(app.state.auth.store, email, "browser")


def _sign_in(browser: TestClient, credential: str, next_path: str = "/") -> None:
    response = browser.post(
        "/auth/login",
        data={"token": credential, "next": next_path},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == next_path


def test_the_sign_in_page(browser: TestClient) -> None:
    page = browser.get("/auth/login?next=/runs")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert 'href="/auth/google?next=/runs"' in page.text
    assert 'name="next" value="/runs"' in page.text


def test_a_token_opens_a_session_with_a_safe_cookie(app: Starlette, browser: TestClient) -> None:
    issued = _token_for(app, ALICE)
    response = browser.post(
        "/auth/login",
        data={"token": issued.secret, "next": "/#/experiments"},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age=43200"):
        assert attribute in cookie
    assert "Domain" not in cookie
    me = browser.get("/api/2.0/mlflow/users/current").json()
    assert me["user"]["username"] == ALICE and me["auth_method"] == "session"
    assert browser.get("/").status_code == 200  # the UI shell


def test_state_changes_need_the_same_origin(app: Starlette, browser: TestClient) -> None:
    _sign_in(browser, _token_for(app, ALICE).secret)
    create = "/ajax-api/2.0/mlflow/experiments/create"
    for headers in ({}, {"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = browser.post(create, json={"name": "csrf"}, headers=headers)
        assert response.status_code == 403, headers
        assert response.json()["error_code"] == "PERMISSION_DENIED"
    ok = browser.post(create, json={"name": "from-ui"}, headers={"Origin": ORIGIN})
    assert ok.status_code == 200, ok.text
    same = {"Sec-Fetch-Site": "same-origin"}
    assert browser.post(create, json={"name": "from-ui-2"}, headers=same).status_code == 200


def test_bad_sign_ins(app: Starlette, browser: TestClient, google: FakeGoogle) -> None:
    cases = [
        ("stratus_pat_" + "0" * 43, 401, "Unknown access token"),
        (google.id_token(OUTSIDER, WEB_CLIENT), 403, "not a member"),
        (google.id_token(ALICE, "https://elsewhere.example"), 401, "audience"),
    ]
    for credential, status, message in cases:
        response = browser.post(
            "/auth/login", data={"token": credential}, headers={"Origin": ORIGIN}
        )
        assert response.status_code == status
        assert message in response.text
        assert "set-cookie" not in response.headers
    cross_site = browser.post(
        "/auth/login",
        data={"token": _token_for(app, ALICE).secret},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403 and "set-cookie" not in cross_site.headers


def test_a_google_id_token_on_the_page(browser: TestClient, google: FakeGoogle) -> None:
    _sign_in(browser, google.id_token(ALICE, WEB_CLIENT))
    assert browser.get("/api/2.0/mlflow/users/current").json()["user"]["username"] == ALICE


def test_revoking_the_token_ends_the_session(app: Starlette, browser: TestClient) -> None:
    issued = _token_for(app, ALICE)
    _sign_in(browser, issued.secret)
    assert browser.get("/api/2.0/mlflow/users/current").status_code == 200
    revoke = browser.post(
        "/api/2.0/stratus/tokens/revoke",
        json={"token_id": issued.record.token_id},
        headers={"Origin": ORIGIN},
    )
    assert revoke.status_code == 200
    assert browser.get("/api/2.0/mlflow/users/current").status_code == 401


def test_a_tampered_cookie_is_refused(app: Starlette, browser: TestClient) -> None:
    _sign_in(browser, _token_for(app, ALICE).secret)
    value = browser.cookies[COOKIE]
    _payload, _timestamp, signature = value.split(".")
    other = app.state.auth.sessions.session_cookie("another-session-id")
    forged = ".".join([other.split(".")[0], _timestamp, signature])
    browser.cookies.set(COOKIE, forged, domain="stratus.test")
    response = browser.get("/api/2.0/mlflow/users/current")
    assert response.status_code == 401


def test_sign_out(app: Starlette, browser: TestClient) -> None:
    _sign_in(browser, _token_for(app, ALICE).secret)
    response = browser.post("/auth/logout", headers={"Origin": ORIGIN})
    assert response.status_code == 303
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert browser.get("/api/2.0/mlflow/users/current").status_code == 401


def _start_google(browser: TestClient, next_path: str) -> dict[str, str]:
    response = browser.get("/auth/google", params={"next": next_path})
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == (
        "https://accounts.google.com/o/oauth2/v2/auth"
    )
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["client_id"] == WEB_CLIENT
    assert query["redirect_uri"] == f"{ORIGIN}/auth/google/callback"
    assert query["code_challenge_method"] == "S256"
    assert query["scope"] == "openid email"
    return query


def test_sign_in_with_google(browser: TestClient, google: FakeGoogle) -> None:
    query = _start_google(browser, "/#/models")
    google.codes["code-1"] = {
        "email": ALICE,
        "claims": {"nonce": query["nonce"]},
        "challenge": query["code_challenge"],
    }
    response = browser.get(f"/auth/google/callback?code=code-1&state={query['state']}")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/#/models"
    me = browser.get("/api/2.0/mlflow/users/current").json()
    assert me["user"]["username"] == ALICE


def test_google_sign_in_checks_state_nonce_and_membership(
    browser: TestClient, google: FakeGoogle
) -> None:
    query = _start_google(browser, "/")
    wrong_state = browser.get("/auth/google/callback?code=x&state=forged")
    assert wrong_state.status_code == 400
    google.codes["code-2"] = {
        "email": ALICE,
        "claims": {"nonce": "another-sign-in"},
        "challenge": query["code_challenge"],
    }
    replayed = browser.get(f"/auth/google/callback?code=code-2&state={query['state']}")
    assert replayed.status_code == 401 and "set-cookie" not in replayed.headers
    query = _start_google(browser, "/")
    google.codes["code-3"] = {
        "email": OUTSIDER,
        "claims": {"nonce": query["nonce"]},
        "challenge": query["code_challenge"],
    }
    outsider = browser.get(f"/auth/google/callback?code=code-3&state={query['state']}")
    assert outsider.status_code == 403


def test_pkce_challenge_is_s256() -> None:
    # RFC 7636, appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_only_local_redirects(browser: TestClient) -> None:
    for unsafe in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        page = browser.get("/auth/login", params={"next": unsafe})
        assert 'name="next" value="/"' in page.text


def test_a_session_cookie_is_no_oauth_state(browser: TestClient) -> None:
    """Sessions and OAuth state are signed for different purposes: one is never the other."""
    _start_google(browser, "/")
    _sign_in(browser, _token_for(browser.app, ALICE).secret)  # type: ignore[arg-type]
    browser.cookies.set(OAUTH_COOKIE, browser.cookies[COOKIE], domain="stratus.test")
    response = browser.get("/auth/google/callback?code=x&state=anything")
    assert response.status_code == 400, response.text
