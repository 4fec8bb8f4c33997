"""bench/instances.py and bench/loadtest.py, for a few seconds each: a smoke test, no timings.

They prove the scripts start their servers (or find the one given), drive every kind of
request, read the writes back, watch PostgreSQL, and write a record; nothing about speed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import ServerProcess

#: Subprocesses: CI runs these, the default local run does not.
pytestmark = [pytest.mark.slow, pytest.mark.needs_backend("postgresql")]

REPO_ROOT = Path(__file__).resolve().parents[2]


def bench(module: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_instances_reads_back_from_every_process(tmp_path: Path) -> None:
    output = tmp_path / "instances.json"
    done = bench(
        "bench.instances",
        "--instances",
        "1,2",
        "--seconds",
        "1",
        "--threads",
        "2",
        "--output",
        str(output),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(output.read_text())["rows"]
    assert {(row["scenario"], row["instances"]) for row in rows} == {
        (scenario, n)
        for scenario in ("log-metric", "log-metric, one shared run", "log-batch", "create-run")
        for n in (1, 2)
    }
    for row in rows:
        assert row["operations"] > 0
        assert row["db CPU ms/op"] is not None  # the database is local: /proc was read
        assert row["db"]["connections_max"] >= 1
    assert "| log-batch | 2 |" in done.stdout


def test_loadtest_against_a_url(server: ServerProcess, tmp_path: Path) -> None:
    output = tmp_path / "loadtest.json"
    done = bench(
        "bench.loadtest",
        *("--url", server.url, "--pid", str(server.process.pid)),
        *("--db-url", server.database_url, "--output", str(output)),
        *("--duration", "6", "--researchers", "3", "--browsers", "1", "--think-seconds", "0.2"),
        *("--checkpoint-mb", "1", "--checkpoint-seconds", "1", "--run-seconds", "2"),
        "--progress-seconds",
        "3",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(output.read_text())
    operations = {op["operation"]: op for op in result["operations"]}
    for name in (
        "create run (mlflow)",
        "log metrics (mlflow log_batch)",
        "upload 1 MB checkpoint (mlflow)",
        "end run (mlflow)",
        "ui runs/search (200)",
        "ui metrics/history-sampled",
    ):
        assert operations[name]["count"] > 0, name
    assert all(op["errors"] == 0 for op in operations.values())
    assert result["instances"][0]["rss MB"] > 0
    assert result["db"]["connections_max"] >= 1
    assert "| operation | count | errors |" in done.stdout
