"""A team-size load test against any Stratus (or MLflow) URL.

Researchers use the unchanged mlflow client, as training code does: each starts a run,
logs its params, then every ``--flush-seconds`` one ``log_batch`` of the metrics it
produced meanwhile (``--metrics-per-second`` values a second, as autolog flushes them),
uploads a checkpoint of ``--checkpoint-mb`` every ``--checkpoint-seconds``, and ends the
run after ``--run-seconds`` to start the next. People browsing the UI send the JSON calls
its pages make (``service/ui/static/js``), over raw HTTP: the experiments list, a runs
table with its charts and live refresh, a run page, and a comparison of a few runs, with
a pause to read between pages.

    # against a team server (the mlflow client's own auth variables apply;
    # MLFLOW_TRACKING_TOKEN is also sent by the browsing side)
    .venv/bin/python -m bench.loadtest --url https://stratus-….run.app --duration 300
    # two local instances on a fresh PostgreSQL database, with their CPU, memory and the
    # database's connections and CPU
    flock /work/bench.lock .venv/bin/python -m bench.loadtest --local 2 --duration 240

It prints progress every ``--progress-seconds`` and, at the end, p50/p99 and errors per
operation, how far researchers fell behind their schedule, the instances' CPU and memory
(``--local`` or ``--pid``) and the database's (``--db-url``, or ``--local``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import itertools
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.dbprobe import PgProbe
from bench.environment import machine
from bench.scenarios.base import percentile
from bench.servers import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "results"
API = "/api/2.0/mlflow"
UI = "/ajax-api/2.0/stratus"
METRIC_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "grad_norm")


def log(message: str) -> None:
    print(f"[loadtest {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Recorder:
    """Latencies and errors per operation, from every thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.first_errors: dict[str, str] = {}
        self.lag: list[float] = []  # how late each flush started, in seconds

    @contextmanager
    def timed(self, operation: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        except Exception as exc:
            with self._lock:
                self.errors[operation] += 1
                self.first_errors.setdefault(operation, f"{type(exc).__name__}: {exc}"[:300])
            return
        elapsed = time.perf_counter() - t0
        with self._lock:
            self.latencies[operation].append(elapsed)

    def late(self, seconds: float) -> None:
        with self._lock:
            self.lag.append(seconds)

    def totals(self) -> tuple[int, int]:
        with self._lock:
            return sum(map(len, self.latencies.values())), sum(self.errors.values())

    def summary(self) -> list[dict[str, Any]]:
        with self._lock:
            names = sorted(set(self.latencies) | set(self.errors))
            return [
                {
                    "operation": name,
                    "count": len(self.latencies[name]),
                    "errors": self.errors[name],
                    "p50 ms": percentile(self.latencies[name], 50) * 1000,
                    "p99 ms": percentile(self.latencies[name], 99) * 1000,
                    "max ms": max(self.latencies[name], default=float("nan")) * 1000,
                    "first error": self.first_errors.get(name, ""),
                }
                for name in names
            ]


# --- researchers: the mlflow client ---------------------------------------------------


class Researcher(threading.Thread):
    """One person training: runs one after another, metrics in batches, checkpoints."""

    def __init__(
        self,
        index: int,
        url: str,
        experiment_id: str,
        args: argparse.Namespace,
        checkpoint: Path,
        rec: Recorder,
        stop: threading.Event,
    ) -> None:
        super().__init__(name=f"researcher-{index}", daemon=True)
        from mlflow import MlflowClient

        self.index = index
        self.client = MlflowClient(url)
        self.experiment_id = experiment_id
        self.args = args
        self.checkpoint = checkpoint
        self.rec = rec
        self.stop_event = stop
        self.runs_started = 0

    def run(self) -> None:
        # Spread the starts over the first flush interval, as people do not start in step.
        if self.stop_event.wait(random.uniform(0, self.args.flush_seconds)):
            return
        while not self.stop_event.is_set():
            self.one_run()

    def one_run(self) -> None:
        from mlflow.entities import Metric, Param

        a = self.args
        run_id = None
        with self.rec.timed("create run (mlflow)"):
            run = self.client.create_run(
                self.experiment_id,
                run_name=f"r{self.index}-{self.runs_started}",
                tags={"mlflow.user": f"researcher-{self.index}", "team": "loadtest"},
            )
            run_id = run.info.run_id
        if run_id is None:
            self.stop_event.wait(a.flush_seconds)
            return
        self.runs_started += 1
        with self.rec.timed("log params (mlflow log_batch)"):
            params = [Param(k, str(v)) for k, v in (("lr", 0.01), ("batch", 64), ("seed", 7))]
            self.client.log_batch(run_id, params=params)
        started = time.monotonic()
        next_flush = started + a.flush_seconds
        # People do not work in step: the first checkpoint comes at a random point of the
        # interval and runs last 0.5 to 1.5 times --run-seconds, unless
        # --checkpoints-together asks for the worst case.
        phase = 1.0 if a.checkpoints_together else random.random()
        next_checkpoint = started + phase * a.checkpoint_seconds
        per_flush = max(1, round(a.metrics_per_second * a.flush_seconds))
        step = 0
        length = a.run_seconds * (1.0 if a.checkpoints_together else random.uniform(0.5, 1.5))
        while time.monotonic() - started < length:
            if self.stop_event.wait(max(0.0, next_flush - time.monotonic())):
                break
            self.rec.late(time.monotonic() - next_flush)
            next_flush += a.flush_seconds
            now = int(time.time() * 1000)
            points = []
            for i in range(per_flush):
                key = METRIC_KEYS[i % len(METRIC_KEYS)]
                if i and i % len(METRIC_KEYS) == 0:
                    step += 1
                points.append(Metric(key, random.random(), now, step))
            step += 1
            with self.rec.timed("log metrics (mlflow log_batch)"):
                self.client.log_batch(run_id, metrics=points)
            if a.checkpoint_mb and time.monotonic() >= next_checkpoint:
                next_checkpoint += a.checkpoint_seconds
                with self.rec.timed(f"upload {a.checkpoint_mb} MB checkpoint (mlflow)"):
                    self.client.log_artifact(run_id, str(self.checkpoint), f"ckpt/{step}")
        with self.rec.timed("end run (mlflow)"):
            self.client.set_terminated(run_id)


# --- people browsing: the UI's JSON calls over raw HTTP -------------------------------


class Browser(threading.Thread):
    """One person in the web UI, page after page, reading each for a while."""

    def __init__(
        self,
        index: int,
        urls: list[str],
        experiment_id: str,
        headers: dict[str, str],
        args: argparse.Namespace,
        rec: Recorder,
        stop: threading.Event,
    ) -> None:
        super().__init__(name=f"browser-{index}", daemon=True)
        self.clients = [httpx.Client(base_url=u, headers=headers, timeout=60) for u in urls]
        self._turn = itertools.cycle(self.clients)
        self.experiment_id = experiment_id
        self.args = args
        self.rec = rec
        self.stop_event = stop

    def call(self, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        """One request to the next instance; its JSON, or None after a recorded failure."""
        result = None
        with self.rec.timed(f"ui {operation}"):
            response = next(self._turn).request(method, path, **kwargs)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
            result = response.json()
        return result

    def run(self) -> None:
        pages = (self.experiments_page, self.runs_page, self.run_page, self.compare_page)
        try:
            while not self.stop_event.is_set():
                for page in pages:
                    page()
                    if self.stop_event.wait(random.uniform(0.5, 1.5) * self.args.think_seconds):
                        return
        finally:
            for client in self.clients:
                client.close()

    def page_start(self) -> None:
        self.call("session", "GET", f"{UI}/session")

    def experiments_page(self) -> None:
        self.page_start()
        body = {
            "max_results": 100,
            "order_by": ["last_update_time DESC"],
            "view_type": "ACTIVE_ONLY",
        }
        self.call("experiments/search", "POST", f"{API}/experiments/search", json=body)

    def runs(self) -> list[dict[str, Any]]:
        body = {
            "experiment_ids": [self.experiment_id],
            "run_view_type": "ACTIVE_ONLY",
            "max_results": 200,
            "order_by": ["attributes.start_time DESC"],
        }
        found = self.call("runs/search (200)", "POST", f"{API}/runs/search", json=body)
        return (found or {}).get("runs", [])

    def charts(self, run_ids: list[str], keys: tuple[str, ...]) -> None:
        for key in keys:
            for i in range(0, len(run_ids), 100):
                query = {
                    "metric_key": key,
                    "x_axis": "step",
                    "max_points": 1000,
                    "run_id": run_ids[i : i + 100],
                }
                self.call(
                    "metrics/history-sampled", "GET", f"{UI}/metrics/history-sampled", params=query
                )

    def runs_page(self) -> None:
        self.page_start()
        exp = {"experiment_id": self.experiment_id}
        self.call("experiments/get", "GET", f"{API}/experiments/get", params=exp)
        self.call("permission", "GET", f"{UI}/permission", params=exp)
        self.call(
            "experiments/run-keys",
            "GET",
            f"{UI}/experiments/run-keys",
            params={**exp, "max_results": 4},
        )
        runs = self.runs()
        ids = [r["info"]["run_id"] for r in runs]
        self.charts(ids[:100], METRIC_KEYS[:2])
        running = [r["info"]["run_id"] for r in runs if r["info"]["status"] == "RUNNING"]
        for _ in range(2):  # the live refresh of running rows, 3 s apart
            if self.stop_event.wait(3) or not running:
                break
            self.call(
                "runs/get (live refresh)",
                "POST",
                f"{UI}/runs/get",
                json={"run_ids": running[:1000]},
            )

    def run_page(self) -> None:
        self.page_start()
        runs = self.runs()
        if not runs:
            return
        run_id = random.choice(runs)["info"]["run_id"]
        self.call("runs/get", "GET", f"{API}/runs/get", params={"run_id": run_id})
        exp = {"experiment_id": self.experiment_id}
        self.call("experiments/get", "GET", f"{API}/experiments/get", params=exp)
        self.call("permission", "GET", f"{UI}/permission", params=exp)
        self.charts([run_id], METRIC_KEYS)

    def compare_page(self) -> None:
        self.page_start()
        runs = self.runs()
        ids = [r["info"]["run_id"] for r in random.sample(runs, min(5, len(runs)))]
        if not ids:
            return
        self.call("runs/get (compare)", "POST", f"{UI}/runs/get", json={"run_ids": ids})
        self.charts(ids, METRIC_KEYS[:4])


# --- machines and databases -----------------------------------------------------------


class ProcessSampler:
    """CPU and memory of local server processes (and their children), sampled."""

    def __init__(self, pids: list[int]) -> None:
        self.procs = [psutil.Process(pid) for pid in pids]
        self.cpu0 = [self._cpu(p) for p in self.procs]
        self.t0 = time.monotonic()
        self.peak_rss = [0] * len(self.procs)

    @staticmethod
    def _tree(proc: psutil.Process) -> list[psutil.Process]:
        try:
            return [proc, *proc.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _cpu(self, proc: psutil.Process) -> float:
        total = 0.0
        for p in self._tree(proc):
            try:
                times = p.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def sample(self) -> list[dict[str, float]]:
        """Per instance: mean CPU % since the start, RSS now and at its peak (MB)."""
        wall = time.monotonic() - self.t0
        found = []
        for i, proc in enumerate(self.procs):
            rss = 0
            for p in self._tree(proc):
                try:
                    rss += p.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            self.peak_rss[i] = max(self.peak_rss[i], rss)
            found.append(
                {
                    "pid": proc.pid,
                    "cpu %": 100 * (self._cpu(proc) - self.cpu0[i]) / max(wall, 1e-9),
                    "rss MB": rss / 2**20,
                    "peak rss MB": self.peak_rss[i] / 2**20,
                }
            )
        return found


def auth_headers() -> dict[str, str]:
    """What the browsing side sends: the token or basic auth the mlflow client would."""
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user, password = (os.environ.get(f"MLFLOW_TRACKING_{k}") for k in ("USERNAME", "PASSWORD"))
    if user and password:
        return {
            "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        }
    return {}


def checkpoint_file(directory: Path, megabytes: int) -> Path:
    """Incompressible bytes, written once and uploaded under a new name each time."""
    path = directory / "checkpoint.pt"
    with path.open("wb") as out:
        for _ in range(megabytes):
            out.write(os.urandom(2**20))
    return path


def progress(
    rec: Recorder,
    started: float,
    previous: list[int],
    sampler: ProcessSampler | None,
    probe: PgProbe | None,
) -> None:
    done, errors = rec.totals()
    rate = (done - previous[0]) / max(time.monotonic() - previous[1], 1e-9)
    previous[:] = [done, time.monotonic()]
    lag = max(rec.lag[-200:], default=0.0)
    line = (
        f"{time.monotonic() - started:5.0f} s: {done} ops ({rate:.0f}/s), {errors} errors, "
        f"worst recent flush lag {lag:.2f} s"
    )
    if sampler:
        line += "; instances " + ", ".join(
            f"{s['cpu %']:.0f}% CPU {s['rss MB']:.0f} MB" for s in sampler.sample()
        )
    if probe:
        line += f"; db connections {probe.connections_now()}"
    log(line)


def run(args: argparse.Namespace, urls: list[str], pids: list[int], db_url: str | None) -> dict:
    headers = auth_headers()
    facts = machine()  # the load average before the test
    rec = Recorder()
    stop = threading.Event()
    with httpx.Client(base_url=urls[0], headers=headers, timeout=60) as setup:
        name = f"loadtest-{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
        response = setup.post(f"{API}/experiments/create", json={"name": name})
        response.raise_for_status()
        experiment_id = response.json()["experiment_id"]
    log(f"experiment {name} ({experiment_id}) on {', '.join(urls)}")
    os.environ.setdefault("MLFLOW_HTTP_POOL_MAXSIZE", str(max(10, args.researchers)))
    probe = PgProbe(db_url).start() if db_url else None
    sampler = ProcessSampler(pids) if pids else None
    me = psutil.Process()
    my_cpu0 = sum(me.cpu_times()[:2])
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp:
        checkpoint = (
            checkpoint_file(Path(tmp), args.checkpoint_mb) if args.checkpoint_mb else Path()
        )
        threads: list[threading.Thread] = [
            Researcher(i, urls[i % len(urls)], experiment_id, args, checkpoint, rec, stop)
            for i in range(args.researchers)
        ]
        threads += [
            Browser(
                i,
                urls[i % len(urls) :] + urls[: i % len(urls)],
                experiment_id,
                headers,
                args,
                rec,
                stop,
            )
            for i in range(args.browsers)
        ]
        started = time.monotonic()
        if probe:
            probe.window()
        for thread in threads:
            thread.start()
        previous = [0, started]
        while time.monotonic() - started < args.duration:
            time.sleep(min(args.progress_seconds, args.duration - (time.monotonic() - started)))
            progress(rec, started, previous, sampler, probe)
        log("stopping: researchers end their runs")
        stop.set()
        for thread in threads:
            thread.join(120)
        wall = time.monotonic() - started
    db = probe.window() if probe else None
    if probe:
        probe.close()
    runs = sum(t.runs_started for t in threads if isinstance(t, Researcher))
    per_flush = max(1, round(args.metrics_per_second * args.flush_seconds))
    batches = len(rec.latencies["log metrics (mlflow log_batch)"])
    uploads = len(rec.latencies[f"upload {args.checkpoint_mb} MB checkpoint (mlflow)"])
    lag = sorted(rec.lag)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "urls": urls,
        "settings": {
            k: v for k, v in vars(args).items() if k not in ("url", "pid", "db_url", "output")
        },
        "machine": facts,
        "load average at end": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "seconds": wall,
        "runs started": runs,
        "metric points/s": batches * per_flush / wall,
        "checkpoint MB/s": uploads * args.checkpoint_mb / wall,
        "flush lag p50 s": percentile(lag, 50),
        "flush lag p99 s": percentile(lag, 99),
        "operations": rec.summary(),
        "instances": sampler.sample() if sampler else [],
        "load generator cpu %": 100 * (sum(me.cpu_times()[:2]) - my_cpu0) / wall,
        "db": db.as_dict() if db else None,
    }


def report(result: dict) -> str:
    """The result as markdown: operations, then instances and the database."""
    lines = [
        f"{result['settings']['researchers']} researchers, {result['settings']['browsers']} "
        f"browsing, {result['seconds']:.0f} s against {len(result['urls'])} instance(s); "
        f"{result['runs started']} runs started; "
        f"{result['metric points/s']:,.0f} metric points/s and "
        f"{result['checkpoint MB/s']:.1f} MB/s of checkpoints acknowledged; "
        f"flush lag p50 {result['flush lag p50 s']:.2f} s, "
        f"p99 {result['flush lag p99 s']:.2f} s; "
        f"load generator {result['load generator cpu %']:.0f}% CPU.",
        "",
        "| operation | count | errors | p50 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for op in result["operations"]:
        lines.append(
            f"| {op['operation']} | {op['count']} | {op['errors']} | "
            f"{op['p50 ms']:.1f} | {op['p99 ms']:.1f} | {op['max ms']:.0f} |"
        )
    if result["instances"]:
        lines += [
            "",
            "| instance | CPU % (mean) | RSS MB (end) | RSS MB (peak) |",
            "| --- | ---: | ---: | ---: |",
        ]
        for i, inst in enumerate(result["instances"]):
            lines.append(
                f"| {i} | {inst['cpu %']:.0f} | {inst['rss MB']:.0f} | {inst['peak rss MB']:.0f} |"
            )
    db = result["db"]
    if db:
        cpu = db["backend_cpu_seconds"]
        lines += [
            "",
            f"Database: connections max {db['connections_max']}, mean "
            f"{db['connections_mean']:.1f}; active backends mean {db['active_mean']:.2f}; "
            f"waiting on locks mean {db['lock_waits_mean']:.2f} (max {db['lock_waits_max']}); "
            + (
                f"backend CPU {100 * cpu / db['seconds']:.0f}% of a core; "
                if cpu is not None
                else ""
            )
            + f"commits {db['counters']['xact_commit']}, rows inserted "
            f"{db['counters']['tup_inserted']}.",
        ]
    errors = [op for op in result["operations"] if op["first error"]]
    for op in errors:
        lines.append(f"- first error of {op['operation']}: `{op['first error']}`")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", action="append", help="a server; repeat for round-robin")
    target.add_argument(
        "--local",
        type=int,
        metavar="N",
        help="start N local instances on a fresh PostgreSQL database",
    )
    parser.add_argument(
        "--pid",
        type=int,
        action="append",
        default=[],
        help="a local server process to report CPU and memory for",
    )
    parser.add_argument("--db-url", help="PostgreSQL to watch (connections, CPU if local)")
    parser.add_argument("--researchers", type=int, default=50)
    parser.add_argument("--browsers", type=int, default=10)
    parser.add_argument("--duration", type=float, default=300, help="seconds (default 300)")
    parser.add_argument("--metrics-per-second", type=float, default=10)
    parser.add_argument(
        "--flush-seconds",
        type=float,
        default=1.0,
        help="one log_batch per researcher this often (default 1)",
    )
    parser.add_argument("--run-seconds", type=float, default=120, help="each run's length")
    parser.add_argument("--checkpoint-mb", type=int, default=20)
    parser.add_argument("--checkpoint-seconds", type=float, default=60)
    parser.add_argument(
        "--checkpoints-together",
        action="store_true",
        help="every researcher uploads (and ends runs) at the same moment: the worst case",
    )
    parser.add_argument(
        "--think-seconds",
        type=float,
        default=5,
        help="mean pause between a browsing person's pages",
    )
    parser.add_argument("--progress-seconds", type=float, default=15)
    parser.add_argument("--output", type=Path, help="the JSON record (default: bench/results/)")
    args = parser.parse_args(argv)

    with contextlib.ExitStack() as stack:
        if args.local:
            from bench.instances import Fleet

            workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="loadtest-servers-"))
            fleet = Fleet(args.local, Path(workdir))
            stack.callback(fleet.stop)
            fleet.start()
            urls = fleet.urls
            pids = [s.process.pid for s in fleet.servers if s.process] + args.pid
            db_url = args.db_url or fleet.database.stratus_url
        else:
            urls, pids, db_url = args.url, args.pid, args.db_url
        # The mlflow client prints two links per ended run; the report alone goes to stdout.
        quiet = stack.enter_context(open(os.devnull, "w"))
        with contextlib.redirect_stdout(quiet):
            result = run(args, urls, pids, db_url)
    out = args.output or RESULTS / f"loadtest-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(report(result))
    log(f"written {out}")
    return 1 if any(op["errors"] for op in result["operations"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
