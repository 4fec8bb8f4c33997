"""Real MLflow sources for import tests, built by the unchanged mlflow client in a
subprocess, and a way to run ``stratus import`` as a researcher would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.backends import scratch_database
from tests.support.server import REPO_ROOT, ServerProcess

pytest.register_assert_rewrite("tests.importer.compare")


@dataclass(frozen=True)
class BuiltSource:
    #: What to give ``stratus import`` (a folder, a database URL or a server URL).
    spec: str
    #: What to give ``MlflowClient`` to read the source directly.
    tracking_uri: str
    manifest: dict
    workdir: Path


def client_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "STRATUS_"))}
    env.update(
        MLFLOW_ALLOW_FILE_STORE="true",
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
        MLFLOW_ENABLE_ASYNC_LOGGING="false",
        PYTHONPATH=str(REPO_ROOT),
        **extra,
    )
    return env


def build_source(tracking_uri: str, workdir: Path, prefix: str, *args: str) -> dict:
    """Run the mlflow client against ``tracking_uri``; the manifest of what it logged."""
    workdir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "tests.importer.build_source", prefix, *args],
        env=client_env(MLFLOW_TRACKING_URI=tracking_uri, BUILD_DIR=str(workdir)),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def stratus_import(
    *args: str,
    database_url: str | None = None,
    artifact_root: str | None = None,
    data_dir: Path,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """``stratus import ARGS`` in a subprocess; the local target is the given store."""
    env = client_env(STRATUS_DATA_DIR=str(data_dir))
    if database_url:
        env["STRATUS_DATABASE_URL"] = database_url
    if artifact_root:
        env["STRATUS_ARTIFACT_ROOT"] = artifact_root
    done = subprocess.run(
        [sys.executable, "-m", "service", "import", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if check:
        assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="session")
def mlruns_source(tmp_path_factory: pytest.TempPathFactory) -> BuiltSource:
    """A ``mlruns/`` file store with the full history."""
    workdir = tmp_path_factory.mktemp("mlruns-source")
    uri = f"file:{workdir / 'mlruns'}"
    manifest = build_source(uri, workdir, f"fs-{os.urandom(4).hex()}", "--full")
    return BuiltSource(str(workdir / "mlruns"), uri, manifest, workdir)


@pytest.fixture(scope="session")
def sqlite_source(tmp_path_factory: pytest.TempPathFactory) -> BuiltSource:
    """An ``mlflow.db`` with the full history; artifacts in ``./mlruns`` beside it."""
    workdir = tmp_path_factory.mktemp("sqlite-source")
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    manifest = build_source(uri, workdir, f"db-{os.urandom(4).hex()}", "--full")
    return BuiltSource(uri, uri, manifest, workdir)


@pytest.fixture
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated store of its own, so a test sees only its own import."""
    from service.store import migrate
    from service.store.db import create_database

    with scratch_database(backend, tmp_path) as url:
        database = create_database(url)
        migrate.upgrade(database)
        database.dispose()
        yield url


@pytest.fixture
def local_target(server: ServerProcess, database_url: str, tmp_path: Path) -> dict:
    """``stratus import`` keyword arguments that make the live server's store the target."""
    return {
        "database_url": database_url,
        "artifact_root": server.artifact_root,
        "data_dir": tmp_path / "stratus-data",
    }


@pytest.fixture(autouse=True)
def _file_store_readable(monkeypatch: pytest.MonkeyPatch) -> None:
    """mlflow 3 refuses ``file:`` stores unless asked; the tests read sources directly."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
