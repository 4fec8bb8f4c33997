"""The database restarts under load, as Cloud SQL does for maintenance, and comes back.

A private PostgreSQL cluster or MariaDB server (never the shared one) serves a live
``stratus serve`` while threads log batches and create runs. The database is stopped in
the middle and started again. Then:

- every acknowledged write is there, and no batch is torn (all of its points or none);
- every request that failed got a 503 with ``Retry-After`` (which the mlflow client
  retries), never another status and never a hang;
- the same server process serves again within 5 s of the database's return;
- the log says what happened in one line per change of state, without tracebacks.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.backends import enabled_backends
from tests.support.private_db import PrivateDatabase, PrivateMariaDB, PrivatePostgres
from tests.support.server import ServerProcess

API = "/api/2.0/mlflow"
POINTS_PER_BATCH = 50
WRITERS = 4
REQUEST_TIMEOUT = 30.0
RECOVERY_SECONDS = 5.0

pytestmark = pytest.mark.slow


@dataclass
class Outcomes:
    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged_batches: list[tuple[str, str]] = field(default_factory=list)
    attempted_batches: list[tuple[str, str]] = field(default_factory=list)
    acknowledged_runs: list[str] = field(default_factory=list)
    failures: list[tuple[int, str | None, str]] = field(default_factory=list)
    successes_at: list[float] = field(default_factory=list)


#: Laptop mode (STRATUS_TEST_BACKENDS=sqlite) needs neither database, not even a private one.
@pytest.fixture(params=[name for name in ("postgresql", "mysql") if name in enabled_backends()])
def private_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PrivateDatabase]:
    database: PrivateDatabase
    if request.param == "postgresql":
        missing = PrivatePostgres.available()
        if missing:
            pytest.skip(f"cannot run a private PostgreSQL here: {missing}")
        database = PrivatePostgres()
    else:
        missing = PrivateMariaDB.available()
        if missing:
            pytest.skip(f"cannot run a private MariaDB here: {missing}")
        database = PrivateMariaDB(tmp_path / "mariadb")
    try:
        database.create()
        yield database
    finally:
        database.destroy()


def _writer(
    url: str, experiment_id: str, runs: list[str], stop: threading.Event, out: Outcomes
) -> None:
    counter = itertools.count()
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as client:
        while not stop.is_set():
            n = next(counter)
            if n % 5 == 4:
                path, body = f"{API}/runs/create", {"experiment_id": experiment_id}
                key = None
            else:
                run_id = runs[n % len(runs)]
                key = f"k-{threading.get_ident()}-{n}"
                now = int(time.time() * 1000)
                metrics = [
                    {"key": key, "value": step * 0.5, "timestamp": now, "step": step}
                    for step in range(POINTS_PER_BATCH)
                ]
                path, body = f"{API}/runs/log-batch", {"run_id": run_id, "metrics": metrics}
                with out.lock:
                    out.attempted_batches.append((run_id, key))
            try:
                answer = client.post(path, json=body)
            except httpx.TimeoutException:
                with out.lock:
                    out.failures.append((0, None, f"{path} timed out"))
                continue
            except httpx.TransportError as exc:
                with out.lock:
                    out.failures.append((-1, None, f"{path}: {exc!r}"))
                continue
            with out.lock:
                if answer.status_code == 200:
                    out.successes_at.append(time.monotonic())
                    if key is None:
                        out.acknowledged_runs.append(answer.json()["run"]["info"]["run_id"])
                    else:
                        out.acknowledged_batches.append((body["run_id"], key))
                else:
                    out.failures.append(
                        (answer.status_code, answer.headers.get("retry-after"), answer.text[:300])
                    )


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_restart_under_load_loses_nothing_and_recovers(
    private_database: PrivateDatabase, tmp_path: Path
) -> None:
    server = ServerProcess(private_database.url, str(tmp_path / "artifacts"), tmp_path)
    server.start(timeout=120)
    try:
        with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT) as client:
            created = client.post(f"{API}/experiments/create", json={"name": uuid.uuid4().hex})
            experiment_id = created.json()["experiment_id"]
            runs = [
                client.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json()[
                    "run"
                ]["info"]["run_id"]
                for _ in range(4)
            ]
        out, stop = Outcomes(), threading.Event()
        writers = [
            threading.Thread(target=_writer, args=(server.url, experiment_id, runs, stop, out))
            for _ in range(WRITERS)
        ]
        for thread in writers:
            thread.start()
        try:
            _wait_for(lambda: len(out.successes_at) >= 40, 60, "writes before the restart")
            private_database.stop()
            _wait_for(lambda: len(out.failures) >= 8, 30, "requests during the outage")
            private_database.start()
            back = time.monotonic()
            _wait_for(
                lambda: any(t > back for t in out.successes_at), 30, "a write after the return"
            )
            recovered_after = min(t for t in out.successes_at if t > back) - back
            time.sleep(1.0)  # keep writing a moment on the recovered database
        finally:
            stop.set()
            for thread in writers:
                thread.join(REQUEST_TIMEOUT + 5)

        # Every failure was a 503 the client retries, with Retry-After; nothing hung.
        wrong = [f for f in out.failures if f[0] != 503 or not f[1]]
        assert not wrong, wrong[:5]
        assert recovered_after < RECOVERY_SECONDS, recovered_after

        # Nothing acknowledged is lost; no batch is torn.
        with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT) as client:
            for run_id in out.acknowledged_runs:
                got = client.get(f"{API}/runs/get", params={"run_id": run_id})
                assert got.status_code == 200, got.text
            acknowledged = set(out.acknowledged_batches)
            for run_id, key in out.attempted_batches:
                history = client.get(
                    f"{API}/metrics/get-history",
                    params={"run_id": run_id, "metric_key": key, "max_results": 1000},
                )
                assert history.status_code == 200, history.text
                points = len(history.json().get("metrics", []))
                if (run_id, key) in acknowledged:
                    assert points == POINTS_PER_BATCH, (run_id, key, points)
                else:
                    assert points in (0, POINTS_PER_BATCH), (run_id, key, points)
    finally:
        server.stop()

    log = server.log_path.read_text()
    assert "Traceback" not in log, log[-4000:]
    # One line per change of state, however many requests failed: gone, back (a server
    # that shuts down slowly may flap once while it still accepts connections).
    changes = [
        "gone" if "Database unavailable" in line else "back"
        for line in log.splitlines()
        if "Database unavailable" in line or "Database available again" in line
    ]
    assert changes[:2] == ["gone", "back"] and changes[-1] == "back", log[-4000:]
    assert changes == ["gone", "back"] * (len(changes) // 2), changes
    assert len(changes) <= 4 < len(out.failures), (changes, len(out.failures))


def test_a_pool_left_stale_by_a_restart_costs_one_503_at_most(
    private_database: PrivateDatabase, tmp_path: Path
) -> None:
    """Connections are not pinged before each request. After a restart while the server
    sat idle, its pooled connections are all dead: the first request may meet one (a 503
    the client retries), and then every request is served again."""
    server = ServerProcess(private_database.url, str(tmp_path / "artifacts"), tmp_path)
    server.start(timeout=120)
    try:
        with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT) as client:
            created = client.post(f"{API}/experiments/create", json={"name": uuid.uuid4().hex})
            experiment_id = created.json()["experiment_id"]
            run_id = client.post(
                f"{API}/runs/create", json={"experiment_id": experiment_id}
            ).json()["run"]["info"]["run_id"]

        def log_metric(client: httpx.Client, step: int) -> int:
            body = {"run_id": run_id, "key": "loss", "value": 1.0, "timestamp": 1, "step": step}
            return client.post(f"{API}/runs/log-metric", json=body).status_code

        def fill_the_pool(offset: int) -> None:  # every pooled connection in use once
            with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT) as client:
                for step in range(offset, offset + 20):
                    assert log_metric(client, step) == 200

        threads = [threading.Thread(target=fill_the_pool, args=(i * 100,)) for i in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        private_database.stop()
        private_database.start()
        time.sleep(0.5)
        with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT) as client:
            statuses = [log_metric(client, 10_000 + step) for step in range(30)]
            run = client.get(f"{API}/runs/get", params={"run_id": run_id})
        assert run.status_code == 200, run.text
        assert statuses.count(503) <= 1 and statuses[-29:] == [200] * 29, statuses
    finally:
        server.stop()
    assert "Traceback" not in server.log_path.read_text()
