"""What PostgreSQL does while a benchmark runs: its backends' CPU, connections, lock waits.

A sampler thread asks ``pg_stat_activity`` about one database a few times a second:
how many connections it has and in which state, and what the active ones wait on
(``Lock`` is a row or table lock another transaction holds; ``LWLock`` and ``IO`` are
PostgreSQL's own internals, such as the WAL). When the database runs on this machine, it
also reads each backend's CPU time from ``/proc/<pid>/stat``, keeping the last value seen
per backend, so a backend that ends between samples loses at most one interval. Work the
server processes share (WAL writer, checkpointer) is not per-database and is not counted.
``pg_stat_database`` deltas give commits, rollbacks, rows written and deadlocks.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TICKS = os.sysconf("SC_CLK_TCK")
_COUNTERS = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "deadlocks")


def proc_cpu_seconds(pid: int) -> float | None:
    """User plus system CPU of a local process, or None if it is gone or not ours to read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14, 15)


@dataclass
class Snapshot:
    """A probe's findings over one window."""

    seconds: float
    samples: int
    backend_cpu_seconds: float | None  # None: the database is not on this machine
    connections_max: int
    connections_mean: float
    active_mean: float
    waits: dict[str, float]  # wait_event_type:wait_event -> mean active backends waiting
    lock_waits_mean: float  # mean backends waiting on a heavyweight lock
    lock_waits_max: int
    counters: dict[str, int] = field(default_factory=dict)  # pg_stat_database deltas

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class PgProbe:
    """Samples one database through its own connection (never counted in the figures)."""

    def __init__(self, url: str, interval: float = 0.2) -> None:
        import psycopg

        self.conn = psycopg.connect(_libpq_url(url), autocommit=True)
        self.database = self.conn.execute("SELECT current_database()").fetchone()[0]
        self.interval = interval
        self.local = _is_local(self.conn)
        self._lock = threading.Lock()
        self._reset()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> PgProbe:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.conn.close()

    def _reset(self) -> None:
        self._started = time.perf_counter()
        self._cpu_first: dict[int, float] = {}
        self._cpu_last: dict[int, float] = {}
        self._samples = 0
        self._connections: list[int] = []
        self._active = 0
        self._waits: Counter[str] = Counter()
        self._lock_waits: list[int] = []
        self._counters = self._read_counters()

    def window(self) -> Snapshot:
        """The findings since the last call (or since start), and start a new window."""
        with self._lock:
            self._sample()
            counters = self._read_counters()
            samples = max(self._samples, 1)
            cpu = (
                sum(self._cpu_last[pid] - self._cpu_first[pid] for pid in self._cpu_last)
                if self.local
                else None
            )
            snap = Snapshot(
                seconds=time.perf_counter() - self._started,
                samples=self._samples,
                backend_cpu_seconds=cpu,
                connections_max=max(self._connections, default=0),
                connections_mean=sum(self._connections) / samples,
                active_mean=self._active / samples,
                waits={k: v / samples for k, v in self._waits.most_common()},
                lock_waits_mean=sum(self._lock_waits) / samples,
                lock_waits_max=max(self._lock_waits, default=0),
                counters={k: counters[k] - self._counters[k] for k in _COUNTERS},
            )
            self._reset()
            return snap

    def connections_now(self) -> int:
        """The database's connections at the latest sample."""
        with self._lock:
            return self._connections[-1] if self._connections else 0

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                self._sample()

    def _sample(self) -> None:
        rows = self.conn.execute(
            "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.database,),
        ).fetchall()
        self._samples += 1
        self._connections.append(len(rows))
        locked = 0
        for pid, state, wait_type, wait_event in rows:
            if state == "active":
                self._active += 1
                if wait_type:
                    self._waits[f"{wait_type}:{wait_event}"] += 1
                    locked += wait_type == "Lock"
            if self.local and (cpu := proc_cpu_seconds(pid)) is not None:
                self._cpu_first.setdefault(pid, cpu)
                self._cpu_last[pid] = cpu
        self._lock_waits.append(locked)

    def _read_counters(self) -> dict[str, int]:
        row = self.conn.execute(
            f"SELECT {', '.join(_COUNTERS)} FROM pg_stat_database WHERE datname = %s",
            (self.database,),
        ).fetchone()
        return dict(zip(_COUNTERS, (int(v) for v in row), strict=True))


def _libpq_url(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://``) as libpq spells it."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else url


def _is_local(conn: Any) -> bool:
    """True when the server's backends are processes this machine can read in /proc."""
    try:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    except Exception:
        return False
    host = conn.info.host or ""
    return (host.startswith("/") or host in ("127.0.0.1", "localhost", "::1")) and (
        proc_cpu_seconds(pid) is not None
    )
