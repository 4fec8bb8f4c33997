"""GCS fails in the middle of a transfer, through a fault-injecting proxy in front of the
GCS emulator that the real server's gcsfs talks to.

- An upload whose chunks GCS refuses (503, after gcsfs's own retries) is a 503 with
  ``Retry-After`` for the client, and nothing appears at the path.
- A download whose later blocks are cut off mid-body never looks complete to the client:
  it gets an error, not a shorter file with a 200.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import GCS_TEST_BUCKET
from tests.support.faulty_proxy import Fault, faulty_proxy
from tests.support.server import ServerProcess

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
#: Larger than gcsfs's 5 MiB block, so transfers take several requests.
SIZE = 12 * 1024 * 1024

pytestmark = pytest.mark.slow  # gcsfs retries with backoff before it gives up


@pytest.fixture
def proxied(
    gcs_emulator: str, tmp_path: Path
) -> Iterator[tuple[ServerProcess, list[Fault], list[str]]]:
    faults: list[Fault] = []
    with faulty_proxy(gcs_emulator, faults) as (proxy_url, hits):
        server = ServerProcess(
            f"sqlite:///{tmp_path / 'stratus.db'}",
            f"gs://{GCS_TEST_BUCKET}/faults-{uuid.uuid4().hex[:8]}",
            tmp_path,
            env={"STORAGE_EMULATOR_HOST": proxy_url},
        ).start()
        try:
            yield server, faults, hits
        finally:
            server.stop()


def test_a_refused_upload_is_503_and_leaves_nothing(
    proxied: tuple[ServerProcess, list[Fault], list[str]],
) -> None:
    server, faults, hits = proxied
    # The chunks of the resumable upload (gcsfs sends them once 8 MiB are buffered).
    faults.append(Fault(lambda _, path, __: "upload_id=" in path, 503))
    with httpx.Client(base_url=server.url, timeout=300) as http:
        answer = http.put(f"{ARTIFACTS}/1/r/artifacts/ckpt.bin", content=os.urandom(SIZE))
        assert hits, "the fault was never reached"
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"].isdigit()
        assert answer.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        faults.clear()
        assert http.get(f"{ARTIFACTS}/1/r/artifacts/ckpt.bin").status_code == 404
        assert http.get(ARTIFACTS, params={"path": "1/r/artifacts"}).json() == {}
    assert "Traceback" not in server.log_path.read_text()


def _ranged_after_start(method: str, path: str, headers: dict[str, str]) -> bool:
    wanted = {k.lower(): v for k, v in headers.items()}.get("range", "bytes=0-")
    return method == "GET" and "alt=media" in path and not wanted.startswith("bytes=0-")


def test_a_download_cut_midway_is_an_error_not_a_short_file(
    proxied: tuple[ServerProcess, list[Fault], list[str]],
) -> None:
    server, faults, hits = proxied
    content = os.urandom(SIZE)
    with httpx.Client(base_url=server.url, timeout=300) as http:
        stored = http.put(f"{ARTIFACTS}/1/r/artifacts/weights.bin", content=content)
        assert stored.status_code == 200, stored.text
        faults.append(Fault(_ranged_after_start, cut=True))
        received = b""
        failed: Exception | None = None
        try:
            with http.stream("GET", f"{ARTIFACTS}/1/r/artifacts/weights.bin") as answer:
                assert answer.status_code == 200  # the first block arrived: the answer began
                assert answer.headers["content-length"] == str(SIZE)
                for chunk in answer.iter_bytes():
                    received += chunk
        except httpx.HTTPError as exc:
            failed = exc
        assert hits, "the fault was never reached"
        assert failed is not None, "a cut download must fail, not end quietly"
        assert len(received) < SIZE
