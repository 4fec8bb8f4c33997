"""``stratus gc`` removes deleted traces, and with a retention period old ones too.

The command runs in-process over a scratch database on every backend; the end-to-end
version (traces logged by the client, ``stratus gc`` as a subprocess beside a live
server) is slow, like tests/compat/test_gc.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
import sqlalchemy as sa
from mlflow import MlflowClient

from service import gc
from service.artifacts import open_artifact_store
from service.store import migrate
from service.store.clock import now_ms
from service.store.db import Database, create_database
from service.store.entities.traces import TraceInfo
from service.store.experiments import ExperimentStore
from service.store.gc import GarbageStore
from service.store.traces import TraceStore
from service.trace_payloads import trace_folder
from tests.compat.test_gc import DAY_MS, client, gc_server, run_gc
from tests.support.backends import scratch_database
from tests.support.server import ServerProcess
from tests.tracing.conftest import flush

__all__ = ["client", "gc_server"]  # fixtures shared with tests/compat/test_gc.py


@mlflow.trace
def work(x: str) -> str:
    return x * 300_000  # a span content large enough to go to the artifact store


def _trace(x: str) -> str:
    work(x)
    return mlflow.get_last_active_trace_id()


def _request_days_ago(server: ServerProcess, trace_id: str, days: int) -> None:
    engine = sa.create_engine(server.database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE traces SET request_time = request_time - :ms WHERE trace_id = :t"),
            {"ms": days * DAY_MS, "t": trace_id},
        )
    engine.dispose()


@pytest.fixture
def gc_database(backend: str, tmp_path: Path) -> Iterator[Database]:
    """A database of its own: gc removes everything deleted in it."""
    with scratch_database(backend, tmp_path) as url:
        database = create_database(url)
        migrate.upgrade(database)
        yield database
        database.dispose()


def test_the_command_removes_deleted_and_expired_traces(
    gc_database: Database, tmp_path: Path
) -> None:
    experiments = ExperimentStore(gc_database)
    traces = TraceStore(gc_database, experiments)
    experiment_id = experiments.create(f"gc-traces-{uuid.uuid4().hex[:8]}")
    root = tmp_path / "artifacts"
    artifacts = open_artifact_store(str(root))

    def trace(age_days: int) -> str:
        trace_id = f"tr-{uuid.uuid4().hex}"
        requested = now_ms() - age_days * DAY_MS
        traces.start_trace(TraceInfo(trace_id, experiment_id, requested, 5, "OK"))
        folder = root / trace_folder(experiment_id, trace_id)
        folder.mkdir(parents=True)
        (folder / "traces.json").write_text("{}")
        return trace_id

    deleted, old, fresh = trace(0), trace(40), trace(0)
    traces.delete(experiment_id, trace_ids=[deleted])

    def collect(*, dry_run: bool = False, retention: str | None = None) -> str:
        said: list[str] = []
        code = gc.run(
            GarbageStore(gc_database),
            artifacts,
            dry_run=dry_run,
            say=said.append,
            traces=traces,
            trace_retention=retention,
        )
        assert code == 0, said
        return "\n".join(said)

    def present(trace_id: str) -> bool:
        """The trace's row is still there (deleted or not)."""
        with gc_database.read() as conn:
            query = sa.text("SELECT 1 FROM traces WHERE trace_id = :t")
            return conn.execute(query, {"t": trace_id}).first() is not None

    assert "2 trace(s)" in collect(dry_run=True, retention="30d")
    assert all(
        present(t) and (root / trace_folder(experiment_id, t)).is_dir() for t in (deleted, old)
    )

    assert "1 trace(s)" in collect()  # no retention: only the deleted one
    assert not present(deleted) and not (root / trace_folder(experiment_id, deleted)).exists()
    assert present(old) and (root / trace_folder(experiment_id, old)).is_dir()

    assert "1 trace(s)" in collect(retention="30d")
    assert not present(old) and not (root / trace_folder(experiment_id, old)).exists()
    assert present(fresh) and (root / trace_folder(experiment_id, fresh)).is_dir()


@pytest.mark.slow
def test_gc_removes_deleted_and_expired_traces(
    gc_server: ServerProcess, client: MlflowClient, unique: str
) -> None:
    experiment_id = client.create_experiment(f"gc-traces-{unique}")
    mlflow.set_experiment(experiment_id=experiment_id)
    deleted, old, fresh = _trace("a"), _trace("b"), _trace("c")
    flush()
    folders = {t: Path(gc_server.artifact_root, experiment_id, "traces", t) for t in (deleted, old)}
    assert all(f.is_dir() for f in folders.values())
    client.delete_traces(experiment_id, trace_ids=[deleted])
    _request_days_ago(gc_server, old, days=40)

    dry = run_gc(gc_server, "--dry-run", "--trace-retention", "30d")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "2 trace(s)" in dry.stdout
    assert folders[deleted].is_dir()

    done = run_gc(gc_server)  # no retention: only the deleted one
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 trace(s)" in done.stdout
    assert not folders[deleted].exists() and folders[old].is_dir()
    assert mlflow.get_trace(old) is not None

    done = run_gc(gc_server, "--trace-retention", "30d")
    assert "1 trace(s)" in done.stdout
    assert not folders[old].exists() and mlflow.get_trace(old) is None
    assert mlflow.get_trace(fresh).data.spans[0].outputs == "c" * 300_000
