"""The HTTP side of an import: the mlflow client's credentials, and retries of transient
failures (never of client errors)."""

from __future__ import annotations

import base64

import httpx
import pytest

from service.config import ClientCredentials
from service.importer import client as client_module
from service.importer.client import ServerError, call, open_client


def test_credentials_come_from_the_mlflow_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "pat-123")
    with open_client("http://stratus", ClientCredentials()) as client:
        assert client.headers["Authorization"] == "Bearer pat-123"

    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ada")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "secret")
    seen = {}

    def record(request: httpx.Request) -> httpx.Response:
        seen["auth"] = request.headers["Authorization"]
        return httpx.Response(200, json={})

    with open_client("http://stratus", ClientCredentials(), httpx.MockTransport(record)) as client:
        call(client, "GET", "/x")
    assert seen["auth"] == "Basic " + base64.b64encode(b"ada:secret").decode()


def test_source_credentials_are_separate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "target")
    monkeypatch.setenv("STRATUS_SOURCE_TRACKING_TOKEN", "source")
    assert ClientCredentials(_env_prefix="STRATUS_SOURCE_TRACKING_").token == "source"


def test_transient_failures_are_retried_client_errors_are_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_module.time, "sleep", lambda _: None)
    answers = iter([httpx.Response(503), httpx.Response(429), httpx.Response(200, json={"a": 1})])
    client = httpx.Client(
        base_url="http://stratus", transport=httpx.MockTransport(lambda _: next(answers))
    )
    assert call(client, "POST", "/x", json={}) == {"a": 1}

    calls = []

    def forbidden(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(403, json={"error_code": "PERMISSION_DENIED", "message": "admins"})

    client = httpx.Client(base_url="http://stratus", transport=httpx.MockTransport(forbidden))
    with pytest.raises(ServerError, match="PERMISSION_DENIED: admins") as raised:
        call(client, "POST", "/x", json={})
    assert raised.value.status == 403 and len(calls) == 1
