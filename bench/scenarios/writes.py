"""Write paths: the do-nothing baseline, log-metric, log-batch and creating runs.

Each scenario reads back what it wrote (history counts, run counts), so a server that
drops writes fails the run instead of looking fast. Client CPU is measured per thread
(``time.thread_time``), so the memory sampler's thread is not counted.
"""

from __future__ import annotations

import threading
import time
import uuid

from bench.client import BenchError, Client, now_ms
from bench.scenarios.base import Context, Result, ServerState, latency_summary


def _experiment(client: Client, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return client.post("experiments/create", {"name": name})["experiment_id"]


def _run(client: Client, experiment_id: str) -> str:
    created = client.post("runs/create", {"experiment_id": experiment_id, "start_time": now_ms()})
    return created["run"]["info"]["run_id"]


def _history_count(client: Client, run_id: str, key: str) -> int:
    count, token = 0, None
    while True:
        query = {"run_id": run_id, "metric_key": key, "max_results": 25000}
        if token:
            query["page_token"] = token
        page = client.get("metrics/get-history", **query)
        count += len(page.get("metrics", []))
        token = page.get("next_page_token")
        if not token:
            return count


def _loop(client: Client, count: int, cap: float, send) -> tuple[list[float], float, float]:
    """Call ``send(i)`` up to ``count`` times within ``cap`` s: latencies, wall, client CPU."""
    latencies: list[float] = []
    cpu0, started = time.thread_time(), time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        send(i)
        latencies.append(time.perf_counter() - t0)
        if t0 - started > cap:
            break
    return latencies, time.perf_counter() - started, time.thread_time() - cpu0


CpuReading = tuple[float, tuple[dict[int, float], int]]
#: CPU seconds of the server and of the database (``None`` on SQLite), connections opened.
CpuUsed = tuple[float, float | None, int]


def _cpu_now(state: ServerState) -> CpuReading:
    """The server tree's CPU seconds so far, and its database backends' (PostgreSQL)."""
    return state.server.cpu_seconds(), state.server.database.backend_cpu()


def _cpu_since(state: ServerState, before: CpuReading) -> CpuUsed:
    """What was used since ``before``."""
    server, (database, opened) = _cpu_now(state)
    if state.server.database.kind == "sqlite":
        return server - before[0], None, 0
    used = sum(cpu - before[1][0].get(pid, 0.0) for pid, cpu in database.items())
    return server - before[0], used, opened - before[1][1]


def _result(
    rate: str,
    count: int,
    wall: float,
    latencies: list[float],
    client_cpu: float,
    cpu_used: CpuUsed,
) -> Result:
    """Throughput, latency, and CPU on every side: the client's, the server's whole
    process tree, and (PostgreSQL) the database server's processes for its connections,
    with the connections opened meanwhile (whose CPU is missed if they closed again)."""
    server_cpu, database_cpu, opened = cpu_used
    values = {
        rate: count / wall,
        **latency_summary("", latencies),
        "client CPU %": 100 * client_cpu / wall,
        "server CPU ms/op": 1000 * server_cpu / max(count, 1),
    }
    if database_cpu is not None:
        values["database CPU ms/op"] = 1000 * database_cpu / max(count, 1)
        values["database connections opened"] = opened
    return Result(values, {"operations": count})


def baseline(ctx: Context, state: ServerState) -> Result:
    """GET /health back to back: what this client can push through a do-nothing endpoint."""
    client = Client(state.server.url)

    def send(_: int) -> None:
        status, _ = client.request("GET", "/health")
        if status != 200:
            raise BenchError(f"/health: HTTP {status}")

    cpu_before = _cpu_now(state)
    latencies, wall, cpu = _loop(client, ctx.sizes.baseline_requests, ctx.sizes.time_cap, send)
    cpu_used = _cpu_since(state, cpu_before)
    client.close()
    return _result("req/s", len(latencies), wall, latencies, cpu, cpu_used)


def log_metric_sequential(ctx: Context, state: ServerState) -> Result:
    client = Client(state.server.url)
    run_id = _run(client, _experiment(client, "bench-log-metric"))
    base = now_ms()

    def send(i: int) -> None:
        client.post(
            "runs/log-metric",
            {
                "run_id": run_id,
                "key": "loss",
                "value": 1.0 / (i + 1),
                "timestamp": base + i,
                "step": i,
            },
        )

    cpu_before = _cpu_now(state)
    latencies, wall, cpu = _loop(client, ctx.sizes.log_metric_requests, ctx.sizes.time_cap, send)
    cpu_used = _cpu_since(state, cpu_before)
    stored = _history_count(client, run_id, "loss")
    client.close()
    if stored != len(latencies):
        raise BenchError(f"log-metric: sent {len(latencies)} points, read back {stored}")
    return _result("req/s", len(latencies), wall, latencies, cpu, cpu_used)


def log_metric_concurrent(ctx: Context, state: ServerState, clients: int = 8) -> Result:
    """``clients`` threads, each logging to its own run over its own connection."""
    setup = Client(state.server.url)
    experiment_id = _experiment(setup, "bench-concurrent")
    run_ids = [_run(setup, experiment_id) for _ in range(clients)]
    sent = [0] * clients
    cpu = [0.0] * clients
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients + 1)

    def worker(index: int) -> None:
        client = Client(state.server.url)
        base = now_ms()

        def send(i: int) -> None:
            client.post(
                "runs/log-metric",
                {
                    "run_id": run_ids[index],
                    "key": "loss",
                    "value": float(i),
                    "timestamp": base + i,
                    "step": i,
                },
            )

        try:
            barrier.wait()
            lat, _, used = _loop(client, ctx.sizes.concurrent_requests, ctx.sizes.time_cap, send)
            latencies[index], sent[index], cpu[index] = lat, len(lat), used
        except BaseException as exc:  # surfaced below, after every thread is joined
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    cpu_before = _cpu_now(state)
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cpu_used = _cpu_since(state, cpu_before)
    if errors:
        raise errors[0]
    for run_id, count in zip(run_ids, sent, strict=True):
        stored = _history_count(setup, run_id, "loss")
        if stored != count:
            raise BenchError(f"concurrent log-metric: sent {count}, read back {stored}")
    setup.close()
    every = [x for lat in latencies for x in lat]
    return _result("req/s", sum(sent), wall, every, sum(cpu), cpu_used)


def log_batch(ctx: Context, state: ServerState) -> Result:
    """log-batch requests of 1000 metrics (10 keys x 100 steps each); rows per second."""
    client = Client(state.server.url)
    run_id = _run(client, _experiment(client, "bench-log-batch"))
    keys = [f"m{k}" for k in range(10)]
    base = now_ms()

    def send(i: int) -> None:
        metrics = [
            {"key": key, "value": step * 0.5, "timestamp": base + step, "step": i * 100 + step}
            for key in keys
            for step in range(100)
        ]
        client.post("runs/log-batch", {"run_id": run_id, "metrics": metrics})

    cpu_before = _cpu_now(state)
    latencies, wall, cpu = _loop(client, ctx.sizes.batches, ctx.sizes.time_cap, send)
    cpu_used = _cpu_since(state, cpu_before)
    for key in keys:
        stored = _history_count(client, run_id, key)
        if stored != 100 * len(latencies):
            expected = 100 * len(latencies)
            raise BenchError(f"log-batch: {key} has {stored} points, expected {expected}")
    client.close()
    result = _result("batches/s", len(latencies), wall, latencies, cpu, cpu_used)
    return Result({"rows/s": 1000 * len(latencies) / wall, **result.values}, result.details)


def create_runs(ctx: Context, state: ServerState) -> Result:
    """A run as a training script makes it: create (3 tags), then 10 params and 5 metrics."""
    client = Client(state.server.url)
    experiment_id = _experiment(client, "bench-create")

    def send(i: int) -> None:
        created = client.post(
            "runs/create",
            {
                "experiment_id": experiment_id,
                "start_time": now_ms(),
                "run_name": f"run-{i}",
                "tags": [{"key": f"tag{t}", "value": f"v{t}"} for t in range(3)],
            },
        )
        run_id = created["run"]["info"]["run_id"]
        client.post(
            "runs/log-batch",
            {
                "run_id": run_id,
                "params": [{"key": f"p{p}", "value": str(p * i)} for p in range(10)],
                "metrics": [
                    {"key": f"m{m}", "value": m / (i + 1), "timestamp": now_ms(), "step": 0}
                    for m in range(5)
                ],
            },
        )

    cpu_before = _cpu_now(state)
    latencies, wall, cpu = _loop(client, ctx.sizes.created_runs, ctx.sizes.time_cap, send)
    cpu_used = _cpu_since(state, cpu_before)
    found, token = [], None
    while True:
        body = {"experiment_ids": [experiment_id], "max_results": 1000}
        if token:
            body["page_token"] = token
        page = client.post("runs/search", body)
        found += page.get("runs", [])
        token = page.get("next_page_token")
        if not token:
            break
    client.close()
    if len(found) != len(latencies):
        raise BenchError(f"create runs: made {len(latencies)}, search found {len(found)}")
    data = found[0]["data"]
    if len(data.get("params", [])) != 10 or len(data.get("metrics", [])) != 5:
        raise BenchError(f"create runs: a run came back with {data}")
    return _result("runs/s", len(latencies), wall, latencies, cpu, cpu_used)
