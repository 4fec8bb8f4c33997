"""A live ``mlflow server`` as the source: a team moving its whole server to Stratus.

The server is the real one from this environment's mlflow, started in a subprocess with
a SQLite backend and proxied artifacts; the test is skipped, saying why, if it cannot
start here.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.importer.compare import assert_same_history
from tests.importer.conftest import BuiltSource, build_source, client_env, stratus_import
from tests.support.server import ServerProcess, free_port

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

START_TIMEOUT = 120


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    executable = Path(sys.executable).with_name("mlflow")
    if not executable.exists() and not shutil.which("mlflow"):
        pytest.skip("mlflow is not installed in this environment: no `mlflow server` to start")
    workdir = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                str(executable if executable.exists() else shutil.which("mlflow")),
                "server",
                "--backend-store-uri",
                f"sqlite:///{workdir / 'mlflow.db'}",
                "--artifacts-destination",
                str(workdir / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            env=client_env(),
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the server's workers are in our own process group
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                pytest.skip(f"`mlflow server` did not start within {START_TIMEOUT} s:\n{tail}")
            time.sleep(0.5)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def server_source(mlflow_server: str, tmp_path_factory: pytest.TempPathFactory) -> BuiltSource:
    workdir = tmp_path_factory.mktemp("server-source")
    manifest = build_source(mlflow_server, workdir, f"srv-{os.urandom(4).hex()}", "--full")
    return BuiltSource(mlflow_server, mlflow_server, manifest, workdir)


def test_mlflow_server_into_a_stratus_server(
    server_source: BuiltSource, server: ServerProcess, tmp_path: Path, tracking_uri: str
) -> None:
    done = stratus_import(
        server_source.spec, "--to", server.url, "--verify", data_dir=tmp_path / "data"
    )

    assert "Verified against the target: OK" in done.stdout
    assert_same_history(server_source.tracking_uri, server.url, server_source.manifest)
