"""Every kind of credential, good and bad, against a live server with auth on.

Bad credentials answer 401 ``UNAUTHENTICATED``; a valid identity that is not on the team
answers 403 ``PERMISSION_DENIED``; both in MLflow's ``{"error_code", "message"}`` shape,
which the mlflow client turns into a ``RestException`` with that code.
"""

from __future__ import annotations

import base64
import time

import httpx
import pytest

from service.auth.tokens import token_hash
from service.store.auth import AuthStore
from service.store.db import create_database
from tests.auth.conftest import (
    ADC_CLIENT,
    ADMIN,
    AUDIENCE,
    DOMAIN,
    GROUP_MEMBER,
    IAP_AUDIENCE,
    MEMBERS,
    OUTSIDER,
    AuthServer,
)
from tests.auth.fake_google import rsa_key

PROBE = "/api/2.0/mlflow/experiments/search?max_results=1"
ALICE = MEMBERS[0]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(username: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == code
    assert body["message"]


def test_health_needs_no_credentials(anonymous: httpx.Client) -> None:
    assert anonymous.get("/health").text == "OK"


def test_no_credentials(anonymous: httpx.Client) -> None:
    response = anonymous.get(PROBE)
    assert_error(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("case", "overrides"),
    [
        ("expired", {"issued_at": time.time() - 7200, "lifetime": 3600}),
        ("not yet valid", {"issued_at": time.time() + 3600}),
        ("wrong audience", {"audience": "https://some-other-service.run.app"}),
        ("wrong issuer", {"issuer": "https://accounts.evil.example"}),
        ("forged signature", {"key": rsa_key()}),
        ("unknown key id", {"kid": "not-a-google-key"}),
        ("unverified email", {"email_verified": False}),
    ],
)
def test_bad_google_id_tokens(
    auth_server: AuthServer, anonymous: httpx.Client, case: str, overrides: dict
) -> None:
    claims = dict(overrides)  # the parameters are shared by every backend's run
    audience = claims.pop("audience", AUDIENCE)
    token = auth_server.google.id_token(ALICE, audience, **claims)
    assert_error(anonymous.get(PROBE, headers=bearer(token)), 401, "UNAUTHENTICATED")


def test_unsigned_and_malformed_tokens(auth_server: AuthServer, anonymous: httpx.Client) -> None:
    unsigned = auth_server.google.id_token(ALICE, AUDIENCE, algorithm="none", key="")
    hmac_signed = auth_server.google.id_token(ALICE, AUDIENCE, algorithm="HS256", key="k" * 32)
    for token in (unsigned, hmac_signed, "not.a.jwt", "garbage"):
        assert_error(anonymous.get(PROBE, headers=bearer(token)), 401, "UNAUTHENTICATED")
    for header in ("Token abc", "Bearer", "Basic %%%"):
        response = anonymous.get(PROBE, headers={"Authorization": header})
        assert_error(response, 401, "UNAUTHENTICATED")


def test_valid_google_identities(auth_server: AuthServer, anonymous: httpx.Client) -> None:
    for email in (ADMIN, ALICE, GROUP_MEMBER, f"someone@{DOMAIN}"):
        response = anonymous.get(PROBE, headers=auth_server.headers(email))
        assert response.status_code == 200, (email, response.text)
    # A user's own gcloud credentials mint tokens for the ADC client: accepted (docs/auth.md).
    adc = auth_server.google.id_token(ALICE.upper(), ADC_CLIENT)
    assert anonymous.get(PROBE, headers=bearer(adc)).status_code == 200


def test_the_configured_service_url_is_an_audience(
    auth_server: AuthServer, anonymous: httpx.Client
) -> None:
    """What service accounts mint (Cloud Run's convention): the deployment lists the
    service's URL in STRATUS_AUTH_AUDIENCES, as the auth_server fixture does."""
    token = auth_server.google.id_token(ALICE, auth_server.url)
    assert anonymous.get(PROBE, headers=bearer(token)).status_code == 200
    other = auth_server.google.id_token(ALICE, "http://127.0.0.1:1")
    assert_error(anonymous.get(PROBE, headers=bearer(other)), 401, "UNAUTHENTICATED")


def test_a_valid_identity_off_the_team_is_forbidden(
    auth_server: AuthServer, anonymous: httpx.Client
) -> None:
    response = anonymous.get(PROBE, headers=auth_server.headers(OUTSIDER))
    assert_error(response, 403, "PERMISSION_DENIED")
    assert OUTSIDER in response.json()["message"]


def test_access_tokens(auth_server: AuthServer, anonymous: httpx.Client) -> None:
    me = auth_server.headers(ALICE)
    created = anonymous.post(
        "/api/2.0/stratus/tokens/create", json={"name": "ci", "expires_in_days": 7}, headers=me
    )
    assert created.status_code == 200, created.text
    secret = created.json()["token"]
    info = created.json()["access_token"]
    assert secret.startswith("stratus_pat_") and info["username"] == ALICE
    assert secret not in anonymous.get("/api/2.0/stratus/tokens/list", headers=me).text
    assert anonymous.get(PROBE, headers=bearer(secret)).status_code == 200

    unknown = "stratus_pat_" + "x" * 43
    assert_error(anonymous.get(PROBE, headers=bearer(unknown)), 401, "UNAUTHENTICATED")

    revoked = anonymous.post(
        "/api/2.0/stratus/tokens/revoke", json={"token_id": info["token_id"]}, headers=me
    )
    assert revoked.status_code == 200
    response = anonymous.get(PROBE, headers=bearer(secret))
    assert_error(response, 401, "UNAUTHENTICATED")
    assert "revoked" in response.json()["message"]


def test_expired_access_token(auth_server: AuthServer, anonymous: httpx.Client) -> None:
    database = create_database(auth_server.database_url)
    try:
        AuthStore(database).create_token(
            token_id="expiredtoken0001",
            token_hash=token_hash("stratus_pat_expired"),
            username=ALICE,
            name="old",
            expiry_time=int(time.time() * 1000) - 1,
        )
    finally:
        database.dispose()
    response = anonymous.get(PROBE, headers=bearer("stratus_pat_expired"))
    assert_error(response, 401, "UNAUTHENTICATED")
    assert "expired" in response.json()["message"]


def test_tokens_of_others_need_an_admin(auth_server: AuthServer, anonymous: httpx.Client) -> None:
    bob = auth_server.headers(MEMBERS[1])
    for_alice = {"username": ALICE, "name": "sneaky"}
    response = anonymous.post("/api/2.0/stratus/tokens/create", json=for_alice, headers=bob)
    assert_error(response, 403, "PERMISSION_DENIED")
    response = anonymous.post(
        "/api/2.0/stratus/tokens/create", json=for_alice, headers=auth_server.headers(ADMIN)
    )
    assert response.status_code == 200
    token_id = response.json()["access_token"]["token_id"]
    response = anonymous.post(
        "/api/2.0/stratus/tokens/revoke", json={"token_id": token_id}, headers=bob
    )
    assert_error(response, 403, "PERMISSION_DENIED")
    outsider = {"username": OUTSIDER}
    response = anonymous.post(
        "/api/2.0/stratus/tokens/create", json=outsider, headers=auth_server.headers(ADMIN)
    )
    assert_error(response, 403, "PERMISSION_DENIED")


def test_basic_auth(auth_server: AuthServer, admin: httpx.Client, unique: str) -> None:
    username = f"ci-{unique}"
    created = admin.post(
        "/api/2.0/mlflow/users/create", json={"username": username, "password": "s3cret-pass"}
    )
    assert created.status_code == 200, created.text
    assert created.json()["user"]["username"] == username
    with httpx.Client(base_url=auth_server.url, timeout=30) as client:
        assert client.get(PROBE, headers=basic(username, "s3cret-pass")).status_code == 200
        # The second request is served from the verification cache: same answer.
        assert client.get(PROBE, headers=basic(username, "s3cret-pass")).status_code == 200
        for user, password in ((username, "wrong-pass"), ("nobody", "s3cret-pass")):
            response = client.get(PROBE, headers=basic(user, password))
            assert_error(response, 401, "UNAUTHENTICATED")
        change = {"username": username, "password": "new-pass-1", "current_password": "nope"}
        changed = client.patch(
            "/api/2.0/mlflow/users/update-password",
            json=change,
            headers=basic(username, "s3cret-pass"),
        )
        assert_error(changed, 403, "PERMISSION_DENIED")
        changed = client.patch(
            "/api/2.0/mlflow/users/update-password",
            json={**change, "current_password": "s3cret-pass"},
            headers=basic(username, "s3cret-pass"),
        )
        assert changed.status_code == 200, changed.text
        response = client.get(PROBE, headers=basic(username, "s3cret-pass"))
        assert_error(response, 401, "UNAUTHENTICATED")
        assert client.get(PROBE, headers=basic(username, "new-pass-1")).status_code == 200


def test_iap_assertions(auth_server: AuthServer, anonymous: httpx.Client) -> None:
    google = auth_server.google
    good = google.iap_assertion(ALICE, IAP_AUDIENCE)
    response = anonymous.get(PROBE, headers={"x-goog-iap-jwt-assertion": good})
    assert response.status_code == 200, response.text
    for bad in (
        google.iap_assertion(ALICE, "/projects/999/global/backendServices/1"),
        google.iap_assertion(ALICE, IAP_AUDIENCE, issued_at=time.time() - 7200, lifetime=60),
        google.id_token(ALICE, IAP_AUDIENCE, issuer="https://cloud.google.com/iap"),  # RS256
    ):
        response = anonymous.get(PROBE, headers={"x-goog-iap-jwt-assertion": bad})
        assert_error(response, 401, "UNAUTHENTICATED")


def test_the_mlflow_client_sees_the_error_codes(
    auth_server: AuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import RestException

    client = MlflowClient(auth_server.url)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "stratus_pat_" + "0" * 43)
    with pytest.raises(RestException) as unauthenticated:
        client.search_experiments()
    assert unauthenticated.value.error_code == "UNAUTHENTICATED"
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", auth_server.token(OUTSIDER))
    with pytest.raises(RestException) as forbidden:
        client.search_experiments()
    assert forbidden.value.error_code == "PERMISSION_DENIED"
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", auth_server.token(ALICE))
    assert client.search_experiments(max_results=1) is not None
