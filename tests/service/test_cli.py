"""The ``stratus`` command: the embedded default, mlflow-server flags, JSON logs, migrations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.server import REPO_ROOT, free_port


def stratus(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**_clean_env(), **(env or {})},
        timeout=120,
    )


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATUS_") and k != "PORT"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


@pytest.mark.slow
def test_db_upgrade_and_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert stratus("db", "current", "--backend-store-uri", url, cwd=tmp_path).returncode == 1
    upgraded = stratus("db", "upgrade", "--backend-store-uri", url, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "revision" in upgraded.stdout
    current = stratus("db", "current", "--backend-store-uri", url, cwd=tmp_path)
    assert current.returncode == 0 and "head" in current.stdout


@pytest.mark.slow
def test_serve_embedded_default_with_mlflow_flags_and_json_logs(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service",
            "serve",
            "--port",
            str(port),
            "--backend-store-uri",
            "sqlite:///mlflow.db",
            "--default-artifact-root",
            "./artifacts",
        ],
        cwd=tmp_path,
        env={**_clean_env(), "STRATUS_LOG_FORMAT": "json"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        created = httpx.post(
            f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/create", json={"name": "cli"}
        )
        assert created.status_code == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert (tmp_path / "mlflow.db").exists()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert lines, output
    assert all({"severity", "message", "time"} <= set(line) for line in lines)
    assert any("artifacts" in line["message"] for line in lines)


@pytest.mark.slow
def test_embedded_default_prints_where_data_lives(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    data_dir = tmp_path / "stratus-data"
    assert (data_dir / "stratus.db").exists()
    assert str(data_dir / "stratus.db") in output
    assert str(data_dir / "artifacts") in output
