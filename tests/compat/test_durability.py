"""Concurrency and durability: nothing acknowledged is lost, no batch is torn.

Writers run concurrently from threads against one server and against two server
processes sharing one database (as Cloud Run instances do); a server is killed with
SIGKILL mid-stream and restarted; SIGTERM lets in-flight requests finish.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.server import ServerProcess
from tests.support.waiting import refuses_connections, wait_until

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

API = "/api/2.0/mlflow"


def new_run(base_url: str, name: str) -> str:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        experiment_id = http.post(f"{API}/experiments/create", json={"name": name}).json()[
            "experiment_id"
        ]
        run = http.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json()
    return run["run"]["info"]["run_id"]


def history(base_url: str, run_id: str, key: str) -> list[dict]:
    with httpx.Client(base_url=base_url, timeout=60) as http:
        response = http.get(
            f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": key}
        )
    response.raise_for_status()
    return response.json().get("metrics", [])


def batch(run_id: str, batch_id: int, size: int) -> dict:
    return {
        "run_id": run_id,
        "metrics": [
            {"key": f"b{batch_id}", "value": i, "timestamp": 1_700_000_000_000 + i, "step": i}
            for i in range(size)
        ],
        "params": [{"key": f"p{batch_id}", "value": str(batch_id)}],
        "tags": [{"key": f"t{batch_id}", "value": "x"}],
    }


@pytest.fixture
def second_server(server: ServerProcess, tmp_path) -> Iterator[ServerProcess]:
    """Another server process on the same database and artifact root."""
    other = ServerProcess(
        database_url=server.database_url, artifact_root=server.artifact_root, workdir=tmp_path
    ).start()
    yield other
    other.stop()


def test_concurrent_writers_same_and_different_runs(server: ServerProcess, unique: str) -> None:
    shared = new_run(server.url, f"concurrent-{unique}")
    own = [new_run(server.url, f"concurrent-{unique}-{i}") for i in range(4)]
    writes_per_worker = 40

    def worker(index: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for step in range(writes_per_worker):
                for run_id in (shared, own[index % len(own)]):
                    response = http.post(
                        f"{API}/runs/log-metric",
                        json={
                            "run_id": run_id,
                            "key": f"w{index}",
                            "value": step,
                            "timestamp": 1_700_000_000_000 + step,
                            "step": step,
                        },
                    )
                    assert response.status_code == 200, response.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))

    for index in range(8):
        points = history(server.url, shared, f"w{index}")
        assert [p["step"] for p in points] == list(range(writes_per_worker))
        assert len(history(server.url, own[index % len(own)], f"w{index}")) == writes_per_worker
    with httpx.Client(base_url=server.url) as http:
        latest = http.get(f"{API}/runs/get", params={"run_id": shared}).json()["run"]["data"][
            "metrics"
        ]
    assert {m["key"]: m["value"] for m in latest} == {
        f"w{i}": writes_per_worker - 1 for i in range(8)
    }


def test_two_processes_on_one_database(
    server: ServerProcess, second_server: ServerProcess, unique: str
) -> None:
    run_id = new_run(server.url, f"two-processes-{unique}")

    def worker(base_url: str, offset: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as http:
            for i in range(50):
                step = offset + i
                response = http.post(
                    f"{API}/runs/log-metric",
                    json={
                        "run_id": run_id,
                        "key": "loss",
                        "value": step,
                        "timestamp": 1_700_000_000_000 + step,
                        "step": step,
                    },
                )
                assert response.status_code == 200, response.text

    with ThreadPoolExecutor(4) as pool:
        futures = [
            pool.submit(worker, url, offset)
            for offset, url in enumerate([server.url, second_server.url] * 2)
        ]
        for future in futures:
            future.result()
    # Offsets 0..3 overlap on purpose: identical points are stored once.
    steps = [p["step"] for p in history(second_server.url, run_id, "loss")]
    assert steps == sorted(steps) and set(steps) == set(range(53))
    with httpx.Client(base_url=server.url) as http:
        data = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert data["metrics"] == [
        {"key": "loss", "value": 52.0, "timestamp": 1_700_000_000_052, "step": 52}
    ]


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_batch(server: ServerProcess, tmp_path, unique: str) -> None:
    victim = ServerProcess(
        database_url=server.database_url, artifact_root=server.artifact_root, workdir=tmp_path
    ).start()
    run_id = new_run(victim.url, f"crash-{unique}")
    acknowledged: list[int] = []
    attempted: list[int] = []
    stop = threading.Event()

    def writer(first: int) -> None:
        batch_id = first
        with httpx.Client(base_url=victim.url, timeout=10) as http:
            while not stop.is_set():
                attempted.append(batch_id)
                try:
                    response = http.post(f"{API}/runs/log-batch", json=batch(run_id, batch_id, 200))
                except httpx.HTTPError:
                    return
                if response.status_code == 200:
                    acknowledged.append(batch_id)
                batch_id += 4

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait()
    stop.set()
    for thread in threads:
        thread.join()
    assert len(acknowledged) >= 20

    with httpx.Client(base_url=server.url, timeout=60) as http:
        data = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    params = {p["key"] for p in data.get("params", [])}
    tags = {t["key"] for t in data.get("tags", [])}
    for batch_id in attempted:
        points = len(history(server.url, run_id, f"b{batch_id}"))
        present = {f"p{batch_id}" in params, f"t{batch_id}" in tags, points == 200}
        assert points in (0, 200), f"batch {batch_id} is torn: {points} points"
        assert len(present) == 1, f"batch {batch_id} is torn across params/tags/metrics"
        if batch_id in acknowledged:
            assert points == 200, f"acknowledged batch {batch_id} was lost"


def test_sigterm_drains_in_flight_requests(server: ServerProcess, tmp_path, unique: str) -> None:
    draining = ServerProcess(
        database_url=server.database_url, artifact_root=server.artifact_root, workdir=tmp_path
    ).start()
    run_id = new_run(draining.url, f"drain-{unique}")
    body = httpx.Request("POST", "http://x", json=batch(run_id, 1, 500)).content
    host, port = draining.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = (
            f"POST {API}/runs/log-batch HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/json\r\nExpect: 100-continue\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode())
        answer = sock.makefile("rb")
        # "100 Continue" comes once the server has made the request a task: it is in flight.
        assert answer.readline().startswith(b"HTTP/1.1 100 ")
        while answer.readline() not in (b"\r\n", b""):  # the interim answer's headers
            pass
        draining.process.send_signal(signal.SIGTERM)
        wait_until(lambda: refuses_connections(draining.url), "the server to stop accepting")
        sock.sendall(body)
        status_line = answer.readline()
    assert status_line.split()[1:2] == [b"200"], status_line
    assert draining.process.wait(30) == 0
    assert len(history(server.url, run_id, "b1")) == 500
