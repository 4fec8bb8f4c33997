"""Several ``stratus serve`` processes on one PostgreSQL database, as Cloud Run scales out.

For 1, 2 and 4 processes on a fresh database, client threads send log-metric, log-batch
and create-run requests round-robin across the processes (each thread turns to the next
process on every request, as a load balancer would). Per scenario it reports throughput,
p50/p99, the servers' CPU and PostgreSQL's backend CPU per operation, connections and
lock waits (``bench/dbprobe.py``), and it reads every write back: a lost or doubled
write fails the run.

On a machine with fewer cores than processes this measures contention and correctness,
not speed-up: the processes and PostgreSQL share the same cores.

    flock /work/bench.lock .venv/bin/python -m bench.instances --seconds 15
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.client import BenchError, Client, now_ms
from bench.dbprobe import PgProbe
from bench.environment import machine
from bench.scenarios.base import percentile
from bench.servers import REPO_ROOT, Server, cpu_seconds, fresh_database

RESULTS = REPO_ROOT / "bench" / "results"
BATCH_POINTS = 1000


def log(message: str) -> None:
    print(f"[instances] {message}", file=sys.stderr, flush=True)


class Fleet:
    """``n`` servers on one fresh PostgreSQL database."""

    def __init__(self, n: int, workdir: Path) -> None:
        self.database = fresh_database("postgresql", f"instances{n}", workdir)
        self.servers = [
            Server(label=f"stratus-{n}-{i}", database=self.database, workdir=workdir)
            for i in range(n)
        ]

    def start(self) -> None:
        # One first, so the migration runs once; then the rest at the same time.
        self.servers[0].start()
        starters = [threading.Thread(target=s.start) for s in self.servers[1:]]
        for thread in starters:
            thread.start()
        for thread in starters:
            thread.join()
        for server in self.servers:
            if server.process is None or server.process.poll() is not None:
                raise BenchError(f"{server.label} did not start")

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.database.drop()

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(s.tree()) for s in self.servers)


class Robin:
    """One thread's keep-alive connection to every instance; each request goes to the next."""

    def __init__(self, urls: list[str], start: int) -> None:
        self.clients = [Client(url) for url in urls]
        self._order = itertools.cycle(range(len(urls)))
        for _ in range(start % len(urls)):
            next(self._order)

    def next(self) -> Client:
        return self.clients[next(self._order)]

    def close(self) -> None:
        for client in self.clients:
            client.close()


Send = Callable[[Client, int, int], None]  # (client, thread, i)


def drive(
    fleet: Fleet, threads: int, seconds: float, send: Send
) -> tuple[list[list[float]], float]:
    """Every thread calls ``send`` until ``seconds`` pass; each thread's latencies, the wall."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)

    def worker(index: int) -> None:
        robin = Robin(fleet.urls, index)
        try:
            start.wait()
            deadline = time.perf_counter() + seconds
            for i in itertools.count():
                t0 = time.perf_counter()
                if t0 > deadline:
                    break
                send(robin.next(), index, i)
                latencies[index].append(time.perf_counter() - t0)
        except BaseException as exc:
            errors.append(exc)
        finally:
            robin.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - began
    if errors:
        raise BenchError(f"{len(errors)} client threads failed; first: {errors[0]!r}")
    return latencies, wall


def history_count(client: Client, run_id: str, key: str) -> int:
    count, token = 0, None
    while True:
        query: dict[str, Any] = {"run_id": run_id, "metric_key": key, "max_results": 25000}
        if token:
            query["page_token"] = token
        page = client.get("metrics/get-history", **query)
        count += len(page.get("metrics", []))
        token = page.get("next_page_token")
        if not token:
            return count


def run_count(client: Client, experiment_id: str) -> int:
    count, token = 0, None
    while True:
        body: dict[str, Any] = {"experiment_ids": [experiment_id], "max_results": 1000}
        if token:
            body["page_token"] = token
        page = client.post("runs/search", body)
        count += len(page.get("runs", []))
        token = page.get("next_page_token")
        if not token:
            return count


def scenario(
    name: str, fleet: Fleet, probe: PgProbe, threads: int, seconds: float
) -> dict[str, Any]:
    """Run one scenario; its figures, after every write was read back."""
    setup = Client(fleet.urls[-1])
    experiment_id = setup.post("experiments/create", {"name": f"{name}-{uuid.uuid4().hex[:8]}"})[
        "experiment_id"
    ]

    def new_run() -> str:
        body = {"experiment_id": experiment_id, "start_time": now_ms()}
        return str(setup.post("runs/create", body)["run"]["info"]["run_id"])

    shared = name == "log-metric, one shared run"
    runs = [new_run()] * threads if shared else [new_run() for _ in range(threads)]
    base = now_ms()
    rows_per_op = BATCH_POINTS if name == "log-batch" else 1

    def send(client: Client, thread: int, i: int) -> None:
        if name == "create-run":
            client.post("runs/create", {"experiment_id": experiment_id, "start_time": now_ms()})
        elif name == "log-batch":
            points = [
                {"key": f"k{thread}-{i}", "value": j * 0.5, "timestamp": base + j, "step": j}
                for j in range(BATCH_POINTS)
            ]
            client.post("runs/log-batch", {"run_id": runs[thread], "metrics": points})
        else:
            point = {"key": f"m{thread}", "value": i * 0.5, "timestamp": base + i, "step": i}
            client.post("runs/log-metric", {"run_id": runs[thread], **point})

    probe.window()
    cpu0 = fleet.cpu_seconds()
    per_thread, wall = drive(fleet, threads, seconds, send)
    server_cpu = fleet.cpu_seconds() - cpu0
    db = probe.window()
    latencies = list(itertools.chain.from_iterable(per_thread))
    ops = len(latencies)

    check = [Client(url) for url in fleet.urls]  # every instance must read it all back
    try:
        for reader in check:
            if name == "create-run":
                found, sent = run_count(reader, experiment_id), ops + threads
            elif name == "log-batch":
                found = sum(
                    history_count(reader, runs[t], f"k{t}-{i}")
                    for t in range(threads)
                    for i in range(len(per_thread[t]))
                )
                sent = ops * BATCH_POINTS
            else:
                found = sum(history_count(reader, runs[t], f"m{t}") for t in range(threads))
                sent = ops
            if found != sent:
                raise BenchError(f"{name}: {sent} acknowledged, {found} read back at {reader.host}")
    finally:
        for reader in check:
            reader.close()
        setup.close()
    cpu_db = db.backend_cpu_seconds
    return {
        "scenario": name,
        "instances": len(fleet.servers),
        "threads": threads,
        "operations": ops,
        "ops/s": ops / wall,
        "rows/s": ops * rows_per_op / wall,
        "p50 ms": percentile(latencies, 50) * 1000,
        "p99 ms": percentile(latencies, 99) * 1000,
        "server CPU ms/op": 1000 * server_cpu / max(ops, 1),
        "db CPU ms/op": None if cpu_db is None else 1000 * cpu_db / max(ops, 1),
        "db": db.as_dict(),
    }


SCENARIOS = ("log-metric", "log-metric, one shared run", "log-batch", "create-run")


def table(rows: list[dict[str, Any]]) -> str:
    """The figures as a markdown table, one row per scenario and instance count."""
    lines = [
        "| scenario | instances | ops/s | p50 ms | p99 ms | server CPU ms/op | "
        "PG CPU ms/op | PG connections (max) | active backends | waiting on a lock | "
        "top wait |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        db = row["db"]
        top = next(iter(db["waits"].items()), None)
        lines.append(
            f"| {row['scenario']} | {row['instances']} | {row['ops/s']:,.0f} | "
            f"{row['p50 ms']:.1f} | {row['p99 ms']:.1f} | {row['server CPU ms/op']:.2f} | "
            + ("n/a" if row["db CPU ms/op"] is None else f"{row['db CPU ms/op']:.2f}")
            + f" | {db['connections_max']} | {db['active_mean']:.1f} | "
            f"{db['lock_waits_mean']:.2f} (max {db['lock_waits_max']}) | "
            + (f"{top[0]} {top[1]:.2f}" if top else "none")
            + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", default="1,2,4", help="process counts (default 1,2,4)")
    parser.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--seconds", type=float, default=15, help="per scenario (default 15)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--output", type=Path, help="the JSON record (default: bench/results/)")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.instances.split(",")]
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    chosen = [s for s in SCENARIOS if any(s.startswith(c) for c in chosen)]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-instances-") as tmp:
        for n in counts:
            fleet = Fleet(n, Path(tmp))
            try:
                fleet.start()
                probe = PgProbe(fleet.database.stratus_url).start()
                try:
                    for name in chosen:
                        log(f"{n} instance(s): {name}, {args.threads} threads, {args.seconds:g} s")
                        row = scenario(name, fleet, probe, args.threads, args.seconds)
                        log(
                            f"  {row['ops/s']:,.0f} ops/s, p99 {row['p99 ms']:.1f} ms, "
                            f"read back from {n} instance(s)"
                        )
                        rows.append(row)
                finally:
                    probe.close()
            finally:
                fleet.stop()
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load average at end": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "threads": args.threads,
        "seconds": args.seconds,
        "rows": rows,
    }
    out = args.output or RESULTS / f"instances-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2))
    print(table(rows))
    log(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
