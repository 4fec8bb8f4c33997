"""``stratus gc`` against a live server's database and artifact root, on every backend.

The server here has a database of its own, so collecting "everything deleted" touches
nothing another test module relies on.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import mlflow
import psutil
import pytest
import sqlalchemy as sa
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression

from service.store.tables import Metric
from tests.support.backends import scratch_database
from tests.support.server import REPO_ROOT, ServerProcess

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def gc_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp(f"gc-{backend}")
    with scratch_database(backend, workdir) as url:
        proc = ServerProcess(
            database_url=url, artifact_root=str(workdir / "artifacts"), workdir=workdir
        ).start()
        yield proc
        proc.stop()


@pytest.fixture
def client(gc_server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> MlflowClient:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", gc_server.url)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    mlflow.set_tracking_uri(gc_server.url)
    return MlflowClient(gc_server.url)


def run_gc(server: ServerProcess, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "gc", *flags, *store_flags(server)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO_ROOT,
    )


def store_flags(server: ServerProcess) -> list[str]:
    return [
        f"--backend-store-uri={server.database_url}",
        f"--artifacts-destination={server.artifact_root}",
    ]


def folder(server: ServerProcess, uri: str) -> Path:
    return Path(server.artifact_root, uri.removeprefix("mlflow-artifacts:/"))


def backdate(server: ServerProcess, table: str, key: str, value: str | int, days: int) -> None:
    """Pretend the item was deleted ``days`` ago."""
    engine = sa.create_engine(server.database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"UPDATE {table} SET deleted_time = deleted_time - :ms WHERE {key} = :v"),
            {"ms": days * DAY_MS, "v": value},
        )
    engine.dispose()


def new_run(client: MlflowClient, experiment_id: str, text: str = "data") -> str:
    run_id = client.create_run(experiment_id).info.run_id
    client.log_text(run_id, text, "files/a.txt")
    for step in range(5):
        client.log_metric(run_id, "loss", 1.0 / (step + 1), step=step)
    return run_id


def new_model(client: MlflowClient, experiment_id: str) -> str:
    model = client.create_logged_model(experiment_id, name="model")
    client.log_model_artifact(model.model_id, __file__)
    return model.model_id


def missing(call) -> bool:
    try:
        call()
    except MlflowException as exc:
        return exc.error_code == "RESOURCE_DOES_NOT_EXIST"
    return False


def test_dry_run_then_gc(gc_server: ServerProcess, client: MlflowClient, unique: str) -> None:
    kept_exp = client.create_experiment(f"kept-{unique}")
    doomed_run = new_run(client, kept_exp)
    live_run = new_run(client, kept_exp)
    doomed_model = new_model(client, kept_exp)
    live_model = new_model(client, kept_exp)
    doomed_exp = client.create_experiment(f"doomed-{unique}")
    inner_run = new_run(client, doomed_exp)
    inner_model = new_model(client, doomed_exp)
    trace_file = Path(gc_server.artifact_root, doomed_exp, "traces", "tr-1", "artifacts", "t.json")
    trace_file.parent.mkdir(parents=True)
    trace_file.write_text("{}")

    uris = {
        "doomed_run": client.get_run(doomed_run).info.artifact_uri,
        "live_run": client.get_run(live_run).info.artifact_uri,
        "doomed_model": client.get_logged_model(doomed_model).artifact_location,
        "live_model": client.get_logged_model(live_model).artifact_location,
        "inner_run": client.get_run(inner_run).info.artifact_uri,
    }
    client.delete_run(doomed_run)
    client.delete_logged_model(doomed_model)
    client.delete_experiment(doomed_exp)
    # Deleting marks only: every file is still there.
    assert all(folder(gc_server, uri).is_dir() for uri in uris.values())

    dry = run_gc(gc_server, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    for item in (doomed_run, doomed_model, doomed_exp, inner_run, inner_model):
        assert "would remove" in dry.stdout and item in dry.stdout
    assert live_run not in dry.stdout and live_model not in dry.stdout
    assert "gc would remove 1 experiment(s), 2 run(s) (10 metric rows), 2 logged model(s)" in (
        dry.stdout
    )
    assert all(folder(gc_server, uri).is_dir() for uri in uris.values())
    assert client.get_run(doomed_run).info.lifecycle_stage == "deleted"

    done = run_gc(gc_server)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gc removed 1 experiment(s), 2 run(s) (10 metric rows), 2 logged model(s)" in (
        done.stdout
    )
    assert missing(lambda: client.get_run(doomed_run))
    assert missing(lambda: client.get_run(inner_run))
    assert missing(lambda: client.get_logged_model(doomed_model))
    assert missing(lambda: client.get_logged_model(inner_model))
    assert missing(lambda: client.get_experiment(doomed_exp))
    assert not folder(gc_server, uris["doomed_run"]).parent.exists()
    assert not folder(gc_server, uris["doomed_model"]).parent.exists()
    assert not Path(gc_server.artifact_root, doomed_exp).exists()
    assert client.get_run(live_run).data.metrics == {"loss": 0.2}
    assert folder(gc_server, uris["live_run"]).is_dir()
    assert client.get_logged_model(live_model).model_id == live_model
    assert folder(gc_server, uris["live_model"]).is_dir()

    again = run_gc(gc_server)
    assert again.returncode == 0
    assert "gc removed 0 experiment(s), 0 run(s)" in again.stdout


def test_older_than(gc_server: ServerProcess, client: MlflowClient, unique: str) -> None:
    experiment_id = client.create_experiment(f"age-{unique}")
    old, recent = new_run(client, experiment_id), new_run(client, experiment_id)
    client.delete_run(old)
    client.delete_run(recent)
    backdate(gc_server, "runs", "run_uuid", old, days=40)

    refused = run_gc(gc_server, "--older-than", "30d", "--run-ids", recent)
    assert refused.returncode == 2
    assert "deleted too recently" in refused.stdout

    done = run_gc(gc_server, "--older-than", "30d")
    assert done.returncode == 0, done.stdout + done.stderr
    assert missing(lambda: client.get_run(old))
    assert client.get_run(recent).info.lifecycle_stage == "deleted"

    assert run_gc(gc_server, "--older-than", "soon").returncode == 2


def test_explicit_ids(gc_server: ServerProcess, client: MlflowClient, unique: str) -> None:
    experiment_id = client.create_experiment(f"ids-{unique}")
    active, first, second = (new_run(client, experiment_id) for _ in range(3))
    client.delete_run(first)
    client.delete_run(second)

    refused = run_gc(gc_server, "--run-ids", f"{first},{active}")
    assert refused.returncode == 2
    assert "not in the deleted lifecycle stage" in refused.stdout
    assert client.get_run(first).info.lifecycle_stage == "deleted"
    assert run_gc(gc_server, "--experiment-ids", "987654").returncode == 2

    done = run_gc(gc_server, "--run-ids", first)
    assert done.returncode == 0, done.stdout + done.stderr
    assert missing(lambda: client.get_run(first))
    assert client.get_run(second).info.lifecycle_stage == "deleted"


def test_registered_models_keep_their_files(
    gc_server: ServerProcess, client: MlflowClient, unique: str
) -> None:
    mlflow.set_experiment(f"registry-{unique}")
    model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="model")
    mlflow.register_model(info.model_uri, f"gc-{unique}")
    client.delete_logged_model(info.model_id)
    client.delete_run(run.info.run_id)
    client.delete_experiment(run.info.experiment_id)

    done = run_gc(gc_server)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"kept logged model {info.model_id}" in done.stdout
    assert f"kept experiment {run.info.experiment_id}" in done.stdout
    loaded = mlflow.pyfunc.load_model(f"models:/gc-{unique}/1")
    assert list(loaded.predict([[0.0], [1.0]])) == [0, 1]


def fill_metrics(server: ServerProcess, run_id: str, rows: int) -> None:
    """Insert ``rows`` metric points into a run, set-wise on the database itself."""
    digits = sa.union_all(*(sa.select(sa.literal(d).label("d")) for d in range(10))).subquery()
    places = [digits.alias(f"p{i}") for i in range(len(str(rows - 1)))]
    n = sum(place.c.d * 10**i for i, place in enumerate(places))
    numbers = sa.select(
        sa.literal(run_id), sa.literal("loss"), n, n, sa.literal(0.5), sa.literal(False)
    ).select_from(places[0])
    for place in places[1:]:
        numbers = numbers.join(place, sa.true())
    columns = ["run_uuid", "key", "step", "timestamp", "value", "is_nan"]
    # The cross join of digit tables is the point; SQLAlchemy would warn about it.
    engine = sa.create_engine(server.database_url, enable_from_linting=False)
    with engine.begin() as conn:
        conn.execute(sa.insert(Metric.__table__).from_select(columns, numbers.where(n < rows)))
    engine.dispose()


def peak_rss_of_gc(server: ServerProcess, run_id: str) -> tuple[int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "gc", "--run-ids", run_id, *store_flags(server)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    peak = 0
    watched = psutil.Process(proc.pid)

    def sample() -> None:
        nonlocal peak
        while proc.poll() is None:
            try:
                peak = max(peak, watched.memory_info().rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, _ = proc.communicate(timeout=600)
    sampler.join()
    assert proc.returncode == 0, out
    return peak, out


@pytest.mark.slow
def test_a_huge_run_goes_in_chunks_with_flat_memory(
    gc_server: ServerProcess, client: MlflowClient, unique: str
) -> None:
    experiment_id = client.create_experiment(f"huge-{unique}")
    small, huge = new_run(client, experiment_id), new_run(client, experiment_id)
    fill_metrics(gc_server, huge, 1_000_000)
    client.delete_run(small)
    client.delete_run(huge)

    small_peak, _ = peak_rss_of_gc(gc_server, small)
    huge_peak, out = peak_rss_of_gc(gc_server, huge)
    assert "1,000,005 metric rows" in out
    assert "900,000 metric rows removed so far" in out
    assert huge_peak - small_peak < 30 * 1024 * 1024, (small_peak, huge_peak)
    assert missing(lambda: client.get_run(huge))
