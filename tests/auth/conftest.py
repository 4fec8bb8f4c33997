"""Fixtures for the auth tests: a fake Google, and a live server with auth on, per backend.

The server verifies Google ID tokens against the fake's JWKS, accepts IAP assertions for
``IAP_AUDIENCE``, and knows a small team: one admin, five members, a group and a domain.
Each backend gets its own scratch database, so grants never leak between test modules'
servers and other suites.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.auth.fake_google import FakeGoogle
from tests.support.backends import scratch_database
from tests.support.server import ServerProcess, free_port

ADMIN = "admin@example.com"
MEMBERS = ("alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com")
GROUP_MEMBER = "frank@example.com"
DOMAIN = "team.example.org"
SERVICE_ACCOUNT = "ci-bot@stratus-test.iam.gserviceaccount.com"
OUTSIDER = "mallory@elsewhere.example"
AUDIENCE = "https://stratus.test"
ADC_CLIENT = "test-adc-client.apps.googleusercontent.com"
IAP_AUDIENCE = "/projects/123456/locations/europe-west1/services/stratus"


def auth_env(google: FakeGoogle) -> dict[str, str]:
    """The environment of a server with auth on, trusting ``google``."""
    return {
        "STRATUS_AUTH_ENABLED": "true",
        "STRATUS_ADMINS": ADMIN,
        "STRATUS_MEMBERS": ",".join([*MEMBERS, SERVICE_ACCOUNT, f"domain:{DOMAIN}"]),
        "STRATUS_GROUPS": f'{{"vision": ["{GROUP_MEMBER}"]}}',
        "STRATUS_AUTH_AUDIENCES": f"{AUDIENCE},{ADC_CLIENT}",
        "STRATUS_GOOGLE_CERTS_URL": f"{google.url}/certs",
        "STRATUS_IAP_CERTS_URL": f"{google.url}/iap-certs",
        "STRATUS_IAP_AUDIENCE": IAP_AUDIENCE,
        "STRATUS_SESSION_SECRET": secrets.token_urlsafe(32),
        # As on Cloud Run (where the deployment lists the service's URL, AUDIENCE, above).
        "K_SERVICE": "stratus",
    }


@dataclass
class AuthServer:
    process: ServerProcess
    database_url: str
    google: FakeGoogle

    @property
    def url(self) -> str:
        return self.process.url

    def token(self, email: str) -> str:
        """A fresh, valid Google ID token for ``email``."""
        return self.google.id_token(email, AUDIENCE)

    def headers(self, email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(email)}"}


@pytest.fixture(scope="session")
def fake_google() -> Iterator[FakeGoogle]:
    google = FakeGoogle().start()
    yield google
    google.stop()


@pytest.fixture(scope="session")
def auth_server(
    backend: str, fake_google: FakeGoogle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AuthServer]:
    workdir = tmp_path_factory.mktemp(f"auth-server-{backend}")
    port = free_port()
    env = auth_env(fake_google)
    # As the deployment does on Cloud Run: the service's own URL is a configured audience.
    env["STRATUS_AUTH_AUDIENCES"] += f",http://127.0.0.1:{port}"
    with scratch_database(backend, workdir) as url:
        process = ServerProcess(
            database_url=url,
            artifact_root=str(workdir / "artifacts"),
            workdir=workdir,
            env=env,
            port=port,
        ).start()
        yield AuthServer(process, url, fake_google)
        process.stop()


@pytest.fixture
def anonymous(auth_server: AuthServer) -> Iterator[httpx.Client]:
    """Raw HTTP to the auth server, with no credentials."""
    with httpx.Client(base_url=auth_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def admin(auth_server: AuthServer) -> Iterator[httpx.Client]:
    """Raw HTTP as the admin."""
    with httpx.Client(
        base_url=auth_server.url, timeout=30, headers=auth_server.headers(ADMIN)
    ) as client:
        yield client
