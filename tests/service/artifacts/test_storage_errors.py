"""A bucket that refuses the server, or fails, is a 503 naming the bucket, never a 500.

gcsfs talks to a small HTTP server standing in for GCS (``STORAGE_EMULATOR_HOST``) that
answers every request with one chosen failure, as GCS does when the service account
lacks a role (403) or when it is overloaded (503).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient

from service.app import create_app
from service.artifacts import artifact_path
from service.artifacts.fsspec_store import open_fsspec_store
from service.config import Settings
from service.errors import TemporarilyUnavailable

BUCKET = "stratus-fault-bucket"
ROOT = f"gs://{BUCKET}/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


class _Failing(BaseHTTPRequestHandler):
    status = 403

    def _fail(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = orjson.dumps({"error": {"code": self.status, "message": "injected failure"}})
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _fail

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def failing_gcs(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Failing]]:
    """GCS answering every call with ``handler.status``; set the status per test."""
    handler = type("Handler", (_Failing,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{server.server_port}")
    yield handler
    server.shutdown()
    server.server_close()


def test_a_refused_bucket_is_503_naming_it(failing_gcs: type[_Failing]) -> None:
    failing_gcs.status = 403
    store = open_fsspec_store(ROOT)

    def upload() -> None:
        # GCS hears of an upload when its first block (or the whole file) is sent.
        writer = store.open_write(artifact_path("1/abc/artifacts/model.pkl"))
        writer.write(b"weights")
        writer.commit()

    for attempt in (
        lambda: store.open_read(artifact_path("1/abc/artifacts/model.pkl")),
        lambda: store.list(artifact_path("1/abc/artifacts")),
        upload,
    ):
        with pytest.raises(TemporarilyUnavailable) as caught:
            attempt()
        assert caught.value.http_status == 503
        assert ROOT in caught.value.message
        assert "service account" in caught.value.message


def test_expired_credentials_are_503_too(failing_gcs: type[_Failing]) -> None:
    failing_gcs.status = 401
    store = open_fsspec_store(ROOT)
    with pytest.raises(TemporarilyUnavailable, match=BUCKET):
        store.list(artifact_path("1"))


def test_the_client_sees_503_with_retry_after(failing_gcs: type[_Failing], tmp_path: Path) -> None:
    failing_gcs.status = 403
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'stratus.db'}",
        artifact_root=ROOT,
        auth_enabled=False,
    )
    with TestClient(create_app(settings)) as http:
        answers = [
            http.get(f"{ARTIFACTS}/1/abc/artifacts/model.pkl"),
            http.put(f"{ARTIFACTS}/1/abc/artifacts/model.pkl", content=b"weights"),
            http.get(ARTIFACTS, params={"path": "1/abc/artifacts"}),
        ]
    for response in answers:
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) > 0
        body = response.json()
        assert body["error_code"] == "TEMPORARILY_UNAVAILABLE"
        assert BUCKET in body["message"]


@pytest.mark.slow
def test_an_overloaded_bucket_is_503_after_gcsfs_retries(failing_gcs: type[_Failing]) -> None:
    """gcsfs retries 5xx itself (about 30 s of back-off), then gives up: a 503, retried."""
    failing_gcs.status = 503
    store = open_fsspec_store(ROOT)
    with pytest.raises(TemporarilyUnavailable) as caught:
        store.list(artifact_path("1"))
    assert caught.value.message == f"The artifact store {ROOT} is unavailable; retry shortly."
