"""An interrupted import, resumed: nothing is duplicated and nothing is missing."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.artifacts import open_artifact_store
from service.config import ClientCredentials
from service.importer.journal import Journal
from service.importer.progress import Progress
from service.importer.runner import Importer, Options
from service.importer.sources import open_source
from service.importer.targets.local import LocalTarget
from service.importer.verify import Verifier
from service.store import tables
from service.store.db import create_database
from tests.importer.conftest import build_source, client_env, stratus_import

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

RUNS, POINTS = 4, 2500  # three metric batches per run
BIG_RUNS, BIG_POINTS = 6, 20_000


class Interrupted(Exception):
    pass


class FlakyTarget:
    """A real target that fails once, at the ``fail_at``-th call of ``method``."""

    def __init__(self, inner: LocalTarget, method: str, fail_at: int) -> None:
        self.inner, self.method, self.fail_at, self.calls = inner, method, fail_at, 0

    def __getattr__(self, name: str):
        real = getattr(self.inner, name)
        if name != self.method:
            return real

        def flaky(*args, **kwargs):
            self.calls += 1
            if self.calls == self.fail_at:
                raise Interrupted(f"injected failure in {name}")
            return real(*args, **kwargs)

        return flaky


def _plain_source(url: str, workdir: Path, runs: int, points: int) -> dict:
    prefix = f"resume-{time.time_ns()}"
    return build_source(url, workdir, prefix, "--runs", str(runs), "--points", str(points))


@pytest.fixture(scope="module")
def plain_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    """An ``mlflow.db``."""
    workdir = tmp_path_factory.mktemp("plain-source")
    url = f"sqlite:///{workdir / 'mlflow.db'}"
    return url, _plain_source(url, workdir, RUNS, POINTS)


@pytest.fixture(scope="module")
def big_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    """An ``mlruns/`` folder (the quicker of the two for the client to fill)."""
    workdir = tmp_path_factory.mktemp("big-source")
    manifest = _plain_source(f"file:{workdir / 'mlruns'}", workdir, BIG_RUNS, BIG_POINTS)
    return str(workdir / "mlruns"), manifest


def _import(source_url: str, target, journal: Journal) -> Progress:
    source = open_source(source_url, artifacts_root=None, credentials=ClientCredentials())
    progress = Progress()
    Importer(source, target, journal, Options(), progress).run()
    return progress


def _counts(database, run_ids: list[str]) -> dict[str, int]:
    metrics = tables.Metric.__table__
    with database.read() as conn:
        return dict(
            conn.execute(
                sa.select(metrics.c.run_uuid, sa.func.count())
                .where(metrics.c.run_uuid.in_(run_ids))
                .group_by(metrics.c.run_uuid)
            ).all()
        )


@pytest.mark.parametrize(
    ("method", "fail_at"),
    [("import_metrics", 2 * 3 + 2), ("write_artifact", 3), ("import_run", 4)],
)
def test_failure_mid_import_then_resume(
    plain_source, fresh_database: str, tmp_path: Path, method: str, fail_at: int
) -> None:
    source_url, manifest = plain_source
    database = create_database(fresh_database)
    target = LocalTarget(database, open_artifact_store(str(tmp_path / "artifacts")))
    journal = Journal(tmp_path / "journal.sqlite")

    with pytest.raises(Interrupted):
        _import(source_url, FlakyTarget(target, method, fail_at), journal)
    resumed = _import(source_url, target, journal)

    assert resumed.resumed["runs"] >= 2
    assert resumed.resumed["runs"] + resumed.done["runs"] == RUNS
    assert _counts(database, manifest["runs"]) == dict.fromkeys(manifest["runs"], POINTS)
    experiments = tables.Experiment.__table__
    with database.read() as conn:
        names = conn.execute(sa.select(experiments.c.name)).scalars().all()
    assert sorted(names) == sorted(["Default", *manifest["experiments"]])
    source = open_source(source_url, artifacts_root=None, credentials=ClientCredentials())
    report = Verifier(source, target.reader(), journal, Options(), Progress()).run()
    assert report.ok, report.problems
    target.close()


def test_sigkill_mid_import_then_resume(big_source, fresh_database: str, tmp_path: Path) -> None:
    """The CLI killed with SIGKILL while it works; the same command finishes the job."""
    source_url, manifest = big_source
    journal = tmp_path / "journal.sqlite"
    target = {
        "database_url": fresh_database,
        "artifact_root": str(tmp_path / "artifacts"),
        "data_dir": tmp_path / "data",
    }
    env = client_env(
        STRATUS_DATA_DIR=str(target["data_dir"]),
        STRATUS_DATABASE_URL=fresh_database,
        STRATUS_ARTIFACT_ROOT=target["artifact_root"],
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "import", source_url, "--journal", str(journal)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if _journal_rows(journal, "metric") >= 1:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, "the import ended before it could be killed"
    assert _journal_rows(journal, "run") < BIG_RUNS

    done = stratus_import(source_url, "--journal", str(journal), "--verify", **target)
    assert "Verified against the target: OK" in done.stdout
    database = create_database(fresh_database)
    points = _counts(database, manifest["runs"])
    database.dispose()
    assert points == dict.fromkeys(manifest["runs"], BIG_POINTS)


def _journal_rows(path: Path, kind: str) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT count(*) FROM done WHERE kind = ?", (kind,)).fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0
