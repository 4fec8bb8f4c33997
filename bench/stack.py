"""The ASGI server and the PostgreSQL driver, side by side: ``python -m bench.stack``.

Each variant is the same app (``bench.stack_serve``) behind one server, on a fresh
PostgreSQL database reached through one driver. Every variant does the same work over
HTTP/1.1 and, where the server speaks it, over h2c with prior knowledge (what Cloud Run
sends to a port named ``h2c``): log-metric, log-batch (1000 metrics), a 100k-point
history, and a 200 MB artifact up and down. The machine is shared, so the figure that
counts is the **CPU time of the server's process tree per operation**; wall times are
recorded but not compared. Variants alternate scenario by scenario, ``--rounds`` times,
and the median is reported. The results and the decision: docs/benchmarks.md.

    python -m bench.stack                               # the default variants, 3 rounds
    python -m bench.stack --variants hypercorn/pg8000,uvicorn/psycopg --rounds 1

Servers: hypercorn (the one Stratus runs), granian (its default process model: a
supervisor and one worker), granian-embed (granian in this process), uvicorn (HTTP/1.1
only). Drivers: psycopg (the one Stratus runs), psycopg-connector (through the Cloud SQL
connector's psycopg adapter, ``tests.support.cloudsql``), pg8000. granian and pg8000 come
with the ``bench`` extra; uvicorn with mlflow.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.client import MB, BenchError, now_ms, pattern_chunks, pattern_digest
from bench.seed import STRATUS, SeedRun, insert_history
from bench.servers import (
    REPO_ROOT,
    DatabaseSpec,
    cpu_seconds,
    free_port,
    fresh_database,
    process_tree,
)

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
DRIVERS = {"psycopg": "postgresql+psycopg", "pg8000": "postgresql+pg8000"}
#: ``<driver>-connector``: through the Cloud SQL connector's adapter for that driver
#: (``bench.stack_serve.LoopbackConnector``), as on Cloud Run.
CONNECTOR_SUFFIX = "-connector"
SERVERS = ("uvicorn", "hypercorn", "granian", "granian-embed")
H2C = {"hypercorn", "granian", "granian-embed"}
HISTORY_POINTS = 100_000
ARTIFACT_BYTES = 200 * MB


def log(message: str) -> None:
    print(f"[stack {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Variant:
    server: str
    driver: str
    database: DatabaseSpec
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    history_run: str = ""

    @property
    def label(self) -> str:
        return f"{self.server}/{self.driver}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        driver = DRIVERS[self.driver.removesuffix(CONNECTOR_SUFFIX)]
        if self.driver.endswith(CONNECTOR_SUFFIX):  # as on Cloud Run: no host, no password
            return f"{driver}://postgres@/{self.database.name}"
        return self.database.stratus_url.replace("postgresql+psycopg", driver)

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRATUS_")}
        env.pop("PORT", None)
        env |= {
            "PYTHONPATH": str(REPO_ROOT),
            "STRATUS_HOST": "127.0.0.1",
            "STRATUS_PORT": str(self.port),
            "STRATUS_DATABASE_URL": self.database_url,
            "STRATUS_ARTIFACT_ROOT": str(self.workdir / f"artifacts-{self.port}"),
            "STRATUS_DATA_DIR": str(self.workdir / f"data-{self.port}"),
        }
        if self.driver.endswith(CONNECTOR_SUFFIX):
            env["STRATUS_CLOUD_SQL_INSTANCE"] = "bench:local:postgresql"
        log_file = (self.workdir / f"{self.server}-{self.driver}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.stack_serve", self.server],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.label} exited; see {self.workdir}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise BenchError(f"{self.label} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def cpu_seconds(self) -> float:
        return cpu_seconds(process_tree(self.process))

    def rss_mb(self) -> float:
        """Resident memory of the server's process tree."""
        return sum(p.memory_info().rss for p in process_tree(self.process)) / MB

    def client(self, protocol: str) -> httpx.Client:
        h2c = protocol == "h2c"
        return httpx.Client(base_url=self.url, http1=not h2c, http2=h2c, timeout=600)


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise BenchError(f"{response.request.url}: HTTP {response.status_code}: {response.text}")
    body: dict[str, Any] = response.json() if response.content else {}
    return body


def _new_run(client: httpx.Client) -> str:
    experiment = _ok(
        client.post(f"{API}/experiments/create", json={"name": f"stack-{uuid.uuid4().hex[:8]}"})
    )["experiment_id"]
    created = _ok(
        client.post(
            f"{API}/runs/create", json={"experiment_id": experiment, "start_time": now_ms()}
        )
    )
    run_id: str = created["run"]["info"]["run_id"]
    return run_id


def _history_count(client: httpx.Client, run_id: str, key: str) -> int:
    count, token = 0, None
    while True:
        query: dict[str, Any] = {"run_id": run_id, "metric_key": key, "max_results": 25000}
        if token:
            query["page_token"] = token
        page = _ok(client.get(f"{API}/metrics/get-history", params=query))
        count += len(page.get("metrics", []))
        token = page.get("next_page_token")
        if not token:
            return count


# --- scenarios: each returns (operations, the work to measure, its check) --------------

Work = tuple[int, Callable[[], None], Callable[[], None]]


def log_metric(variant: Variant, client: httpx.Client, count: int = 1000) -> Work:
    run_id = _new_run(client)
    base = now_ms()

    def work() -> None:
        for i in range(count):
            point = {"run_id": run_id, "key": "loss", "value": 1.0 / (i + 1)}
            _ok(client.post(f"{API}/runs/log-metric", json=point | {"timestamp": base + i}))

    def check() -> None:
        if (stored := _history_count(client, run_id, "loss")) != count:
            raise BenchError(f"log-metric: {stored} of {count} points stored")

    return count, work, check


def log_batch(variant: Variant, client: httpx.Client, count: int = 50) -> Work:
    run_id = _new_run(client)
    base = now_ms()

    def work() -> None:
        for i in range(count):
            metrics = [
                {"key": f"m{k}", "value": s * 0.5, "timestamp": base + s, "step": i * 100 + s}
                for k in range(10)
                for s in range(100)
            ]
            _ok(client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}))

    def check() -> None:
        if (stored := _history_count(client, run_id, "m0")) != 100 * count:
            raise BenchError(f"log-batch: {stored} of {100 * count} points stored")

    return count, work, check


def history(variant: Variant, client: httpx.Client, repeats: int = 5) -> Work:
    counts: list[int] = []

    def work() -> None:
        for _ in range(repeats):
            counts.append(_history_count(client, variant.history_run, "loss"))

    def check() -> None:
        if counts != [HISTORY_POINTS] * repeats:
            raise BenchError(f"history: {counts}, expected {HISTORY_POINTS} points each")

    return repeats, work, check


_digest: list[str] = []


def artifact(variant: Variant, client: httpx.Client) -> Work:
    path = f"{ARTIFACTS}/stack/{uuid.uuid4().hex}/blob.bin"
    got: list[tuple[int, str]] = []

    def work() -> None:
        headers = {"Content-Type": "application/octet-stream"}
        response = client.put(path, content=pattern_chunks(ARTIFACT_BYTES), headers=headers)
        _ok(response)
        digest, size = hashlib.sha256(), 0
        with client.stream("GET", path) as down:
            if down.status_code != 200:
                raise BenchError(f"download: HTTP {down.status_code}")
            for block in down.iter_bytes(MB):
                digest.update(block)
                size += len(block)
        got.append((size, digest.hexdigest()))

    def check() -> None:
        if not _digest:
            _digest.append(pattern_digest(ARTIFACT_BYTES))
        if got != [(ARTIFACT_BYTES, _digest[0])]:
            raise BenchError("artifact: the download differs from the upload")

    return 1, work, check


SCENARIOS: dict[str, Callable[[Variant, httpx.Client], Work]] = {
    "log-metric": log_metric,
    "log-batch": log_batch,
    "history 100k": history,
    "artifact 200 MB": artifact,
}


def measure(variant: Variant, scenario: str, protocol: str) -> dict[str, float]:
    with variant.client(protocol) as client:
        operations, work, check = SCENARIOS[scenario](variant, client)
        cpu0, wall0 = variant.cpu_seconds(), time.perf_counter()
        work()
        wall, cpu = time.perf_counter() - wall0, variant.cpu_seconds() - cpu0
        check()
    return {"server CPU ms/op": 1000 * cpu / operations, "wall ms/op": 1000 * wall / operations}


def seed_history(variant: Variant) -> None:
    with variant.client("http1") as client:
        location = _ok(client.get(f"{API}/experiments/get", params={"experiment_id": "0"}))[
            "experiment"
        ]["artifact_location"]
    run_id = f"{HISTORY_POINTS:032x}"
    run = SeedRun(run_id, 0, "history", 1_700_000_000_000, f"{location}/{run_id}", {}, {})
    insert_history(variant.database, STRATUS, run, HISTORY_POINTS)
    variant.history_run = run_id


def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="stratus-stack-"))
    variants = []
    for spec in args.variants.split(","):
        server, driver = spec.split("/")
        database = fresh_database("postgresql", f"stack_{server}_{driver}", workdir)
        variants.append(Variant(server, driver, database, workdir))
    samples: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    memory: dict[str, dict[str, float]] = {}
    try:
        for variant in variants:
            variant.start()
            seed_history(variant)
            memory[variant.label] = {"RSS MB after start": variant.rss_mb()}
            log(f"{variant.label} up on {variant.url}, {memory[variant.label]}")
        for round_ in range(args.rounds):
            for scenario in args.scenarios.split(","):
                for protocol in ("http1", "h2c"):
                    for variant in variants:
                        if protocol == "h2c" and variant.server not in H2C:
                            continue
                        result = measure(variant, scenario, protocol)
                        samples.setdefault((scenario, protocol, variant.label), []).append(result)
                        log(f"round {round_ + 1} {scenario} {protocol} {variant.label}: {result}")
        for variant in variants:
            memory[variant.label]["RSS MB after the scenarios"] = variant.rss_mb()
    finally:
        for variant in variants:
            variant.stop()
            variant.database.drop()
    table: dict[str, dict[str, float]] = {
        f"memory | | {label}": values for label, values in memory.items()
    }
    table |= {
        f"{scenario} | {protocol} | {label}": {
            key: statistics.median(s[key] for s in runs) for key in runs[0]
        }
        for (scenario, protocol, label), runs in samples.items()
    }
    print(json.dumps(table, indent=1))
    if args.output:
        Path(args.output).write_text(json.dumps(table, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stack", description=__doc__)
    parser.add_argument(
        "--variants",
        default="hypercorn/psycopg,granian/psycopg,granian-embed/psycopg,"
        "hypercorn/psycopg-connector,hypercorn/pg8000",
        help="comma-separated server/driver pairs",
    )
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", default=None, help="write the medians here (JSON)")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
