"""Serving from the registry: the unchanged ``mlflow models serve -m models:/name@alias``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import mlflow
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from tests.support.server import free_port

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

MLFLOW_CLI = Path(sys.executable).with_name("mlflow")  # the console script of this environment
STARTUP_TIMEOUT_S = 300  # the CLI imports mlflow, sklearn and uvicorn, then downloads the model
X = np.arange(12, dtype=float).reshape(6, 2)


@pytest.fixture
def registered(tracking_uri: str, unique: str) -> str:
    """A model with two versions and ``champion`` on version 2 (predictions ``5 * sum(x)``)."""
    name = f"served-{unique}"
    mlflow.set_experiment(f"serving-{unique}")
    for scale in (1.0, 5.0):
        with mlflow.start_run():
            mlflow.sklearn.log_model(
                LinearRegression().fit(X, scale * X.sum(axis=1)),
                name="model",
                registered_model_name=name,
                pip_requirements=["scikit-learn"],
            )
    mlflow.MlflowClient().set_registered_model_alias(name, "champion", "2")
    return name


@pytest.fixture
def scoring_server(
    registered: str, tracking_uri: str, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = tmp_path / "serve.log"
    # As in an activated virtualenv: the CLI execs ``uvicorn`` from PATH.
    path = os.pathsep.join([str(MLFLOW_CLI.parent), os.environ.get("PATH", "")])
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "PATH": path}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(MLFLOW_CLI),
                "models",
                "serve",
                "-m",
                f"models:/{registered}@champion",
                "--env-manager",
                "local",
                "--host",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            start_new_session=True,  # the CLI starts worker processes; stop them as a group
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        yield url, log
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mlflow models serve exited:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/ping", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"mlflow models serve did not start:\n{log.read_text()[-4000:]}")


def test_models_serve_answers_with_the_aliased_version(scoring_server: tuple[str, Path]) -> None:
    url, log = scoring_server
    response = httpx.post(
        f"{url}/invocations",
        json={"inputs": X.tolist()},
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 200, f"{response.text}\n{log.read_text()[-2000:]}"
    np.testing.assert_allclose(response.json()["predictions"], 5 * X.sum(axis=1))
