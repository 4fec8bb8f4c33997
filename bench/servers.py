"""Launching the servers under test, their databases, and their memory.

``stratus serve`` runs from this project's interpreter. ``mlflow server`` runs from a
throwaway virtualenv that :func:`ensure_mlflow_venv` builds with the pinned release, so
the benchmark never depends on whatever else is installed. Memory is always the whole
process tree: ``mlflow server`` starts uvicorn workers (and, with one worker, still a
supervisor process).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.client import BenchError, Client

REPO_ROOT = Path(__file__).resolve().parents[1]
MLFLOW_VERSION = "3.17.2"
DEFAULT_MLFLOW_VENV = REPO_ROOT / "bench" / ".venv-mlflow"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_mlflow_venv(path: Path = DEFAULT_MLFLOW_VENV) -> Path:
    """A virtualenv holding exactly ``mlflow==MLFLOW_VERSION`` (+ psycopg2); its python."""
    python = path / "bin" / "python"
    probe = [str(python), "-c", "import mlflow, psycopg2; print(mlflow.__version__)"]
    if python.exists():
        found = subprocess.run(probe, capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.strip() == MLFLOW_VERSION:
            return python
        shutil.rmtree(path)
    print(f"[bench] creating {path} with mlflow=={MLFLOW_VERSION} (one-off)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"mlflow=={MLFLOW_VERSION}", "psycopg2-binary"],
        check=True,
    )
    subprocess.run(probe, check=True, capture_output=True)
    return python


# --- databases -------------------------------------------------------------------------


@dataclass
class DatabaseSpec:
    """One fresh database for one server: its URL as each program spells it."""

    kind: str  # "sqlite" | "postgresql"
    name: str
    sqlite_path: Path | None = None

    @property
    def stratus_url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.name}"

    @property
    def mlflow_url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.name}"

    def connect(self) -> Any:
        """A raw DB-API connection, for seeding."""
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.sqlite_path, timeout=60)
            conn.execute("PRAGMA busy_timeout=60000")
            return conn
        import psycopg

        return psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{self.name}")

    def backend_cpu(self) -> tuple[dict[int, float], int]:
        """PostgreSQL: CPU seconds so far of each server process serving this database
        (one per connection), by pid, and how many connections were ever opened to it;
        nothing on SQLite, which runs inside the server.

        Background processes (WAL writer, checkpointer, autovacuum) serve every database
        and are left out; so is a connection that ends between two readings (a pool that
        opens and closes connections under load): the count of connections opened says
        whether that happened.
        """
        if self.kind == "sqlite":
            return {}, 0
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            pids = [
                row[0]
                for row in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.name,)
                )
            ]
            opened = conn.execute(
                "SELECT sessions FROM pg_stat_database WHERE datname = %s", (self.name,)
            ).fetchone()
        found = {}
        for pid in pids:
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.NoSuchProcess:
                continue
            found[pid] = times.user + times.system
        return found, int(opened[0]) if opened else 0

    def drop(self) -> None:
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)
            return
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def fresh_database(kind: str, label: str, workdir: Path) -> DatabaseSpec:
    name = f"bench_{label.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    if kind == "sqlite":
        return DatabaseSpec(kind, name, sqlite_path=workdir / f"{name}.db")
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return DatabaseSpec(kind, name)


# --- servers ---------------------------------------------------------------------------


@dataclass
class Server:
    """One server under test: how to start it, and the live process tree."""

    label: str  # "stratus", "mlflow", "mlflow-w1"
    database: DatabaseSpec
    workdir: Path
    mlflow_python: Path | None = None
    workers: int | None = None  # mlflow only; None = mlflow's default (4)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_stratus(self) -> bool:
        return self.mlflow_python is None

    @property
    def artifact_root(self) -> Path:
        return self.workdir / f"artifacts-{self.label}"

    def command(self) -> list[str]:
        if self.is_stratus:
            return [
                sys.executable,
                "-m",
                "service",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--backend-store-uri",
                self.database.stratus_url,
                "--artifacts-destination",
                str(self.artifact_root),
                "--log-level",
                "warning",
            ]
        assert self.mlflow_python is not None
        command = [
            str(self.mlflow_python.parent / "mlflow"),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--backend-store-uri",
            self.database.mlflow_url,
            "--artifacts-destination",
            str(self.artifact_root),
        ]
        if self.workers is not None:
            command += ["--workers", str(self.workers)]
        return command

    def start(self, timeout: float = 180.0) -> tuple[float, float]:
        """Launch and wait; seconds to the first ``/health`` 200 and to the first API answer."""
        self.artifact_root.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STRATUS_", "MLFLOW_"))}
        env.pop("PORT", None)
        if self.is_stratus:
            env["PYTHONPATH"] = str(REPO_ROOT)
            env["STRATUS_DATA_DIR"] = str(self.workdir / "stratus-data")
        log = (self.workdir / f"{self.label}.log").open("ab")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            self.command(),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            start_new_session=True,
        )
        health = self._wait(started, timeout, "/health")
        api = self._wait(started, timeout, "/api/2.0/mlflow/experiments/get?experiment_id=0")
        return health, api

    def _wait(self, started: float, timeout: float, path: str) -> float:
        client = Client(self.url, timeout=5)
        try:
            while time.perf_counter() - started < timeout:
                if self.process is not None and self.process.poll() is not None:
                    raise BenchError(f"{self.label} exited early; see {self.workdir}")
                try:
                    status, _ = client.request("GET", path)
                    if status == 200:
                        return time.perf_counter() - started
                except OSError:
                    client.close()
                time.sleep(0.005)
        finally:
            client.close()
        raise BenchError(f"{self.label} did not answer {path} within {timeout} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        tree = self.tree()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for child in tree[1:]:  # workers that outlived their parent
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()

    def tree(self) -> list[psutil.Process]:
        return process_tree(self.process)

    def memory(self) -> tuple[int, int]:
        """(RSS, PSS) in bytes, summed over the process tree."""
        rss = pss = 0
        for proc in self.tree():
            try:
                info = proc.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
        return rss, pss

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.tree())


def process_tree(process: subprocess.Popen[bytes] | None) -> list[psutil.Process]:
    """A live process and all its descendants (none once it has exited)."""
    if process is None or process.poll() is not None:
        return []
    try:
        root = psutil.Process(process.pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(tree: list[psutil.Process]) -> float:
    """User plus system CPU time spent so far by the processes of ``tree``."""
    total = 0.0
    for proc in tree:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


class MemorySampler:
    """Samples the RSS of every live server's tree ten times a second; keeps the peaks."""

    def __init__(self, servers: list[Server], interval: float = 0.1) -> None:
        self.servers = servers
        self.interval = interval
        self.peaks: dict[str, int] = {s.label: 0 for s in servers}
        self._window: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> MemorySampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def reset_window(self) -> None:
        """Start a fresh per-scenario peak (see :meth:`window_peak`)."""
        self._window = {}

    def window_peak(self, label: str) -> int:
        return self._window.get(label, 0)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for server in self.servers:
                rss = 0
                for proc in server.tree():
                    try:
                        rss += proc.memory_info().rss
                    except psutil.NoSuchProcess:
                        continue
                self.peaks[server.label] = max(self.peaks[server.label], rss)
                self._window[server.label] = max(self._window.get(server.label, 0), rss)
