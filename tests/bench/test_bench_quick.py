"""The benchmark harness in --quick mode against Stratus alone: a smoke test, no timings.

It proves the runner starts a server, seeds both kinds of data, runs every scenario with
its read-back checks, and writes a record and a report; it asserts nothing about speed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import report

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_against_stratus(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    document = tmp_path / "benchmarks.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--servers",
            "stratus",
            "--quick",
            "--backend",
            "sqlite",
            "--workdir",
            str(tmp_path),
            "--output",
            str(output),
            "--report",
            str(document),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    record = json.loads(output.read_text())
    assert record["errors"] == {}
    results = record["results"]
    for scenario in (
        "cold start",
        "baseline",
        "log-metric",
        "log-metric x8",
        "log-batch",
        "create runs",
        "search 1000",
        "history 10000",
        "artifact 5 MB",
        "ui runs page",
        "otlp ingest",
        "otlp ingest x8",
        "search_traces 1000",
        "get_trace 1000 spans",
        "peak RSS",
    ):
        assert "stratus" in results[scenario], scenario
    assert results["log-batch"]["stratus"]["values"]["rows/s"] > 0
    assert results["cold start"]["stratus"]["values"]["idle RSS MB"] > 0

    text = document.read_text()
    assert "<!-- bench:sqlite:begin -->" in text and "| log-metric |" in text
    assert "| target |" in report.targets_table(record)
