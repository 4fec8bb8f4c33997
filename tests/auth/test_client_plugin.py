"""The stratus-auth client plugin, installed, with the real mlflow client and a live server.

Install it first: ``.venv/bin/pip install -e clients/stratus-auth``. Google is the fake on
loopback: a service-account key file whose ``token_uri`` points there drives google-auth's
real service-account flow; user credentials (which always call Google's fixed token URL)
are injected as the credentials ADC returns, with the fake's token URL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

stratus_auth = pytest.importorskip(
    "stratus_auth", reason="install the plugin: .venv/bin/pip install -e clients/stratus-auth"
)

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from stratus_auth.credentials import REFRESH_MARGIN_SECONDS, IdTokens  # noqa: E402

from tests.auth.conftest import ADC_CLIENT, ADMIN, MEMBERS, SERVICE_ACCOUNT, AuthServer  # noqa: E402
from tests.auth.fake_google import FakeGoogle, pem, rsa_key  # noqa: E402

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

SA_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ENV = (
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_AUTH",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "STRATUS_AUTH_AUDIENCE",
    "STRATUS_AUTH_PLUGIN",
)


@pytest.fixture
def researcher(auth_server: AuthServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean client environment: only MLFLOW_TRACKING_URI, as in the README."""
    for name in CLIENT_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", auth_server.url)
    mlflow.set_tracking_uri(auth_server.url)
    yield auth_server.url
    while mlflow.active_run():
        mlflow.end_run()


@pytest.fixture
def service_account_key(fake_google: FakeGoogle, tmp_path: Path) -> Path:
    key = tmp_path / "ci-bot.json"
    key.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "stratus-test",
                "private_key_id": "ci-bot-key",
                "private_key": pem(rsa_key()),
                "client_email": SERVICE_ACCOUNT,
                "client_id": "1234567890",
                "token_uri": f"{fake_google.url}/token",
            }
        )
    )
    return key


def _log_a_run(name: str, artifact: Path) -> str:
    mlflow.set_experiment(name)
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.1)
        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_artifact(str(artifact))
    return run.info.run_id


def _admin_view(auth_server: AuthServer, run_id: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", auth_server.token(ADMIN))
    return MlflowClient(auth_server.url).get_run(run_id)


def test_service_account_key_file(
    researcher: str,
    auth_server: AuthServer,
    service_account_key: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    unique: str,
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(service_account_key))
    artifact = tmp_path / "config.yaml"
    artifact.write_text("lr: 0.1\n")
    minted_before = auth_server.google.calls[SA_GRANT]
    run_id = _log_a_run(f"plugin-sa-{unique}", artifact)
    # One ID token served every request of the run (audience: the tracking URI).
    assert auth_server.google.calls[SA_GRANT] - minted_before == 1
    assert MlflowClient().list_artifacts(run_id)[0].path == "config.yaml"
    run = _admin_view(auth_server, run_id, monkeypatch)
    assert run.data.metrics["loss"] == pytest.approx(1 / 3)


def test_user_credentials_from_gcloud(
    researcher: str,
    auth_server: AuthServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    unique: str,
) -> None:
    """`gcloud auth application-default login` credentials: the ID token of the refresh."""
    import google.auth
    from google.oauth2.credentials import Credentials

    user = Credentials(
        token=None,
        refresh_token=f"refresh:{MEMBERS[0]}",
        client_id=ADC_CLIENT,
        client_secret="not-secret",
        token_uri=f"{auth_server.google.url}/token",
    )
    monkeypatch.setattr(google.auth, "default", lambda *a, **k: (user, None))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "user-adc"))
    artifact = tmp_path / "notes.txt"
    artifact.write_text("hello")
    run_id = _log_a_run(f"plugin-user-{unique}", artifact)
    run = _admin_view(auth_server, run_id, monkeypatch)
    assert run.data.params == {"lr": "0.1"}


def test_request_auth_provider_signs_for_each_url(
    researcher: str,
    auth_server: AuthServer,
    service_account_key: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    unique: str,
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(service_account_key))
    monkeypatch.setenv("MLFLOW_TRACKING_AUTH", "stratus")
    artifact = tmp_path / "weights.bin"
    artifact.write_bytes(b"\x00" * 1024)
    run_id = _log_a_run(f"plugin-auth-provider-{unique}", artifact)
    assert _admin_view(auth_server, run_id, monkeypatch).info.run_id == run_id


def test_explicit_credentials_win(
    researcher: str,
    auth_server: AuthServer,
    service_account_key: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(service_account_key))
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", auth_server.token(MEMBERS[1]))
    minted_before = auth_server.google.calls[SA_GRANT]
    experiment_id = MlflowClient().create_experiment(f"explicit-{service_account_key.stem}")
    assert auth_server.google.calls[SA_GRANT] == minted_before
    from mlflow.server.auth.client import AuthServiceClient

    effective = AuthServiceClient(auth_server.url).get_user_permission(
        MEMBERS[1], "experiment", experiment_id
    )
    assert effective.permission == "MANAGE"  # bob created it, with his own token


def test_no_google_credentials_means_no_header(
    researcher: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import google.auth
    import google.auth.exceptions
    from stratus_auth.provider import StratusHeaderProvider

    def no_credentials(*_args, **_kwargs):
        raise google.auth.exceptions.DefaultCredentialsError("none here")

    monkeypatch.setattr(google.auth, "default", no_credentials)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/for-this-test")
    assert StratusHeaderProvider().in_context() is False
    monkeypatch.setenv("STRATUS_AUTH_PLUGIN", "off")
    assert StratusHeaderProvider().in_context() is False


def test_tokens_are_renewed_before_they_expire() -> None:
    now = [1_000_000.0]
    minted: list[str] = []

    def mint(audience: str) -> tuple[str, float]:
        minted.append(audience)
        return f"token-{len(minted)}", now[0] + 3600

    tokens = IdTokens(mint=mint, clock=lambda: now[0])
    assert tokens.token("https://stratus.example") == "token-1"
    now[0] += 3600 - REFRESH_MARGIN_SECONDS - 1
    assert tokens.token("https://stratus.example") == "token-1"
    now[0] += 2  # inside the margin: a new token, never an expired one
    assert tokens.token("https://stratus.example") == "token-2"
    assert tokens.token("https://other.example") == "token-3"
