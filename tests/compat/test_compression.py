"""Responses are gzip-compressed for clients that accept it, and only where it pays.

Large JSON (a runs search) and text artifacts are compressed; bytes that are compressed
already (archives, images, opaque binaries) and small bodies are sent as they are; a
client that does not accept gzip gets identity. The real mlflow client reads it all.
"""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import httpx
import pytest
from mlflow import MlflowClient

from tests.support.server import ServerProcess

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def _get(server: ServerProcess, path: str, encoding: str) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as sent (httpx would decode gzip for us)."""
    with httpx.Client(base_url=server.url, timeout=30) as raw:
        request = raw.build_request("GET", path, headers={"Accept-Encoding": encoding})
        response = raw.send(request, stream=True)
        wire = b"".join(response.iter_raw())
        response.close()
        return response, wire


@pytest.mark.slow
def test_a_large_search_is_compressed_and_reads_the_same(
    server: ServerProcess, client: MlflowClient, unique: str
) -> None:
    experiment_id = client.create_experiment(unique)
    for index in range(60):
        run = client.create_run(experiment_id, run_name=f"run-{index}")
        client.log_param(run.info.run_id, "lr", str(index / 100))
        client.log_metric(run.info.run_id, "loss", index / 7)
    body = {"experiment_ids": [experiment_id], "max_results": 100}

    with httpx.Client(base_url=server.url, timeout=30) as http:
        plain = http.post(f"{API}/runs/search", json=body, headers={"Accept-Encoding": "identity"})
        packed = http.post(f"{API}/runs/search", json=body, headers={"Accept-Encoding": "gzip"})

    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert packed.json() == plain.json()  # httpx decoded it
    assert len(packed.json()["runs"]) == 60
    # The real client, which sends Accept-Encoding: gzip, sees every run.
    assert len(client.search_runs([experiment_id], max_results=100)) == 60


def test_small_answers_are_not_compressed(server: ServerProcess) -> None:
    answer, _ = _get(server, "/health", "gzip")
    assert answer.status_code == 200 and "content-encoding" not in answer.headers


def test_text_artifacts_are_compressed_and_binaries_are_not(
    server: ServerProcess, client: MlflowClient, unique: str, tmp_path: Path
) -> None:
    run = client.create_run(client.create_experiment(unique))
    run_id = run.info.run_id
    text = "".join(f"step {i} loss {i / 3:.6f}\n" for i in range(5000))
    (tmp_path / "train.log").write_text(text)
    blob = os.urandom(200_000)
    (tmp_path / "weights.bin").write_bytes(blob)
    archive = io.BytesIO()
    with gzip.GzipFile(fileobj=archive, mode="wb") as packed:
        packed.write(text.encode())
    (tmp_path / "data.tar.gz").write_bytes(archive.getvalue())
    for name in ("train.log", "weights.bin", "data.tar.gz"):
        client.log_artifact(run_id, str(tmp_path / name))
    root = run.info.artifact_uri.removeprefix("mlflow-artifacts:/")

    log, wire = _get(server, f"{ARTIFACTS}/{root}/train.log", "gzip")
    assert log.headers["content-encoding"] == "gzip"
    assert len(wire) < len(text) / 3
    assert gzip.decompress(wire).decode() == text
    for name, content in (("weights.bin", blob), ("data.tar.gz", archive.getvalue())):
        answer, wire = _get(server, f"{ARTIFACTS}/{root}/{name}", "gzip")
        assert "content-encoding" not in answer.headers, name
        assert wire == content, name

    # The client downloads every file byte for byte.
    out = Path(client.download_artifacts(run_id, "", str(tmp_path / "out")))
    assert (out / "train.log").read_text() == text
    assert (out / "weights.bin").read_bytes() == blob
    assert (out / "data.tar.gz").read_bytes() == archive.getvalue()
