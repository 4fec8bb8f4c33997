"""``stratus gc`` removes deleted traces, and with a retention period old ones too."""

from __future__ import annotations

from pathlib import Path

import mlflow
import sqlalchemy as sa
from mlflow import MlflowClient

from tests.compat.test_gc import DAY_MS, client, gc_server, run_gc
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
