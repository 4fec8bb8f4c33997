"""Machine facts and software versions, recorded with every run."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from pathlib import Path

import psutil

from bench.servers import PG_ADMIN_URL, REPO_ROOT


def machine() -> dict[str, object]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "memory GiB": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load average at start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def versions(backend: str, mlflow_python: Path | None) -> dict[str, str]:
    found = {"stratus": _git_revision()}
    if mlflow_python is not None:
        found["mlflow"] = subprocess.run(
            [str(mlflow_python), "-c", "import mlflow; print(mlflow.__version__)"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    if backend == "sqlite":
        found["sqlite"] = sqlite3.sqlite_version
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL) as conn:
            found["postgresql"] = str(conn.execute("SHOW server_version").fetchone()[0])
    return found


def _git_revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True
        ).stdout.strip()

    revision = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--", "service")
    return f"{revision}{' + uncommitted changes' if dirty else ''}"
