"""A long metric history moves with flat memory: peak RSS does not grow with its length."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.importer.conftest import build_source, client_env

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

#: Runs ``stratus import`` and reports the process's peak resident memory (KiB on Linux).
MEASURED = (
    "import resource, sys; from service.cli import main; code = main(sys.argv[1:]); "
    "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


def _source_with_history(workdir: Path, points: int) -> Path:
    """An mlruns/ run made by the client, its history then extended in the file store's
    own line format (``timestamp value step``), which is much quicker than the client."""
    manifest = build_source(
        f"file:{workdir / 'mlruns'}", workdir, f"scale-{points}", "--runs", "1", "--points", "10"
    )
    (run_id,) = manifest["runs"]
    (metrics,) = (workdir / "mlruns").glob(f"*/{run_id}/metrics/loss")
    with metrics.open("a") as handle:
        for step in range(10, points):
            handle.write(f"{1_700_000_000_000 + step} {1.0 / (step + 1)} {step}\n")
    return workdir / "mlruns"


def _peak_rss_kib(source: Path, data_dir: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, "import", str(source)],
        env=client_env(STRATUS_DATA_DIR=str(data_dir)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("MAXRSS")]
    return int(line.split()[1])


@pytest.mark.slow
def test_memory_is_flat_for_a_run_with_many_points(tmp_path: Path) -> None:
    small = _peak_rss_kib(_source_with_history(tmp_path / "small", 5_000), tmp_path / "a")
    large = _peak_rss_kib(_source_with_history(tmp_path / "large", 500_000), tmp_path / "b")

    # Holding 500k points at once would take well over 100 MiB; streamed, the two imports
    # peak within a few MiB of each other.
    assert large - small < 40 * 1024, (small, large)
