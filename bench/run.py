"""Stratus against ``mlflow server``, side by side: ``python -m bench.run``.

One run, one database kind. Every server gets a fresh database of that kind, the same
seeded data, and the same scenarios, which alternate between the servers (scenario by
scenario) so that a noisy neighbour on the machine hurts all of them alike. The table of
ratios is printed, and the raw numbers are written to ``bench/results/*.json``;
``--report docs/benchmarks.md`` also renders them into the document.

    python -m bench.run --backend sqlite            # full run (about 20-30 minutes)
    python -m bench.run --backend postgresql --quick
    python -m bench.run --servers stratus --quick    # the harness alone, no mlflow
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bench import environment, report
from bench.client import MB, Client
from bench.scenarios import artifacts, clients, reads, traces, writes
from bench.scenarios.base import FULL, QUICK, Context, Result, Scenario, ServerState, Sizes
from bench.seed import (
    MLFLOW,
    STRATUS,
    SeedRun,
    expected_search,
    expected_unanalysed_search,
    insert_history,
    insert_runs,
)
from bench.seed import search_runs as seed_search_runs
from bench.servers import REPO_ROOT, MemorySampler, Server, ensure_mlflow_venv, fresh_database

SERVER_LABELS = ("stratus", "mlflow", "mlflow-w1")
RESULTS_DIR = REPO_ROOT / "bench" / "results"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def trace_scenarios(sizes: Sizes) -> list[tuple[str, Scenario]]:
    plan: list[tuple[str, Scenario]] = [
        ("otlp ingest", traces.ingest(1)),
        ("otlp ingest x8", traces.ingest(8)),
    ]
    plan += [(f"search_traces {n}", traces.search(n)) for n in sizes.search_traces]
    plan.append(("get_trace 1000 spans", traces.get_big_trace))
    return plan


def write_scenarios() -> list[tuple[str, Scenario]]:
    return [
        ("baseline", writes.baseline),
        ("log-metric", writes.log_metric_sequential),
        ("log-metric x8", writes.log_metric_concurrent),
        ("log-batch", writes.log_batch),
        ("create runs", writes.create_runs),
    ]


def scenarios(sizes: Sizes, with_flow: bool) -> list[tuple[str, Scenario]]:
    plan = write_scenarios()
    plan += [(f"search {n}", reads.search(n)) for n in sizes.search_runs]
    plan += [(f"history {n}", reads.history(n)) for n in sizes.history_points]
    plan += [(f"artifact {s // MB} MB", artifacts.artifact(s)) for s in sizes.artifact_sizes]
    plan.append(("ui runs page", clients.ui_runs_page))
    plan += trace_scenarios(sizes)
    if with_flow:
        plan.append(("mlflow client", clients.mlflow_client_flow))
    return plan


#: ``--only unanalysed``: experiment sizes searched on tables PostgreSQL never analysed.
UNANALYSED_SIZES = (1_000, 10_000)

#: The groups ``--only`` can run alone, and what each is.
ONLY = {
    "traces": "the trace scenarios",
    "writes": "the write scenarios",
    "searches": "the 1k/10k/100k run searches, on analysed tables",
    "unanalysed": "searches of 1k/10k runs on tables never analysed (PostgreSQL)",
}


def search_scenarios(sizes: Sizes, unanalysed: bool) -> list[tuple[str, Scenario]]:
    if unanalysed:
        return [
            (f"search unanalysed {n}", reads.search(n, unanalysed=True)) for n in UNANALYSED_SIZES
        ]
    return [(f"search {n}", reads.search(n)) for n in sizes.search_runs]


# --- setup -----------------------------------------------------------------------------


def seed_searches(state: ServerState, sizes: tuple[int, ...], *, analyse: bool) -> None:
    """The search experiments alone; without ``analyse``, bulk-loaded as a restore leaves
    them (no ANALYZE, autovacuum off for them) and searched with issue 20's filter."""
    layout = STRATUS if state.server.is_stratus else MLFLOW
    client = Client(state.server.url)
    for size in sizes:
        name = f"{'search' if analyse else 'unanalysed'}-{size}"
        experiment_id = client.post("experiments/create", {"name": name})["experiment_id"]
        location = client.get("experiments/get", experiment_id=experiment_id)["experiment"][
            "artifact_location"
        ]
        runs = seed_search_runs(size, int(experiment_id), location)
        insert_runs(state.server.database, layout, runs, analyse=analyse)
        if analyse:
            state.search[size] = (experiment_id, expected_search(runs))
        else:
            state.unanalysed[size] = (experiment_id, expected_unanalysed_search(runs))
    client.close()


def seed(state: ServerState, sizes: Sizes) -> None:
    """Experiments through the API, then the same runs and points into each schema."""
    server = state.server
    layout = STRATUS if server.is_stratus else MLFLOW
    client = Client(server.url)
    for size in sizes.search_runs:
        experiment_id = client.post("experiments/create", {"name": f"search-{size}"})[
            "experiment_id"
        ]
        location = client.get("experiments/get", experiment_id=experiment_id)["experiment"][
            "artifact_location"
        ]
        runs = seed_search_runs(size, int(experiment_id), location)
        insert_runs(server.database, layout, runs)
        state.search[size] = (experiment_id, expected_search(runs))
    state.ui_experiment = state.search[max(n for n in sizes.search_runs if n <= 10_000)][0]
    experiment_id = client.post("experiments/create", {"name": "history"})["experiment_id"]
    location = client.get("experiments/get", experiment_id=experiment_id)["experiment"][
        "artifact_location"
    ]
    for points in sizes.history_points:
        run_id = f"{points:032x}"
        run = SeedRun(
            run_id,
            int(experiment_id),
            f"history-{points}",
            1_700_000_000_000,
            f"{location}/{run_id}/artifacts",
            {},
            {},
        )
        insert_history(server.database, layout, run, points)
        state.history[points] = run_id
    client.close()


def start_servers(
    labels: list[str], backend: str, workdir: Path, mlflow_python: Path | None
) -> dict[str, ServerState]:
    states: dict[str, ServerState] = {}
    for label in labels:
        database = fresh_database(backend, label, workdir)
        server = Server(
            label,
            database,
            workdir,
            mlflow_python=None if label == "stratus" else mlflow_python,
            workers=1 if label == "mlflow-w1" else None,
        )
        states[label] = ServerState(server)
    return states


def cold_starts(states: dict[str, ServerState], sizes: Sizes) -> dict[str, Result]:
    """Restart each server ``cold_starts`` times, alternating; the last start stays up."""
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in states}
    for round_ in range(sizes.cold_starts):
        for label, state in states.items():
            state.server.stop()
            time.sleep(0.5)
            samples[label].append(state.server.start())
            log(f"cold start {round_ + 1}: {label} health {samples[label][-1][0]:.2f} s")
            if round_ < sizes.cold_starts - 1:
                state.server.stop()
    time.sleep(5)  # let start-up work settle before the idle reading
    results = {}
    for label, state in states.items():
        health = sorted(s[0] for s in samples[label])
        api = sorted(s[1] for s in samples[label])
        rss, pss = state.server.memory()
        results[label] = Result(
            {
                "health s": health[len(health) // 2],
                "first API call s": api[len(api) // 2],
                "idle RSS MB": rss / MB,
                "idle PSS MB": pss / MB,
                "processes": float(len(state.server.tree())),
            },
            {"health samples": health, "api samples": api},
        )
    return results


# --- the run ---------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    sizes = QUICK if args.quick else FULL
    if args.trace_search_sizes:
        sizes = replace(sizes, search_traces=tuple(args.trace_search_sizes))
    labels = [label.strip() for label in args.servers.split(",")]
    unknown = set(labels) - set(SERVER_LABELS)
    if unknown:
        raise SystemExit(f"unknown servers: {', '.join(sorted(unknown))}")
    wants_mlflow = any(label != "stratus" for label in labels)
    mlflow_python = ensure_mlflow_venv(args.mlflow_venv) if wants_mlflow else None
    flow_python = mlflow_python or (
        Path(sys.executable) if importlib.util.find_spec("mlflow") else None
    )
    workdir = Path(tempfile.mkdtemp(prefix=f"stratus-bench-{args.backend}-", dir=args.workdir))
    log(f"{args.backend}, {'quick' if args.quick else 'full'} run in {workdir}")
    states = start_servers(labels, args.backend, workdir, mlflow_python)
    results: dict[str, dict[str, Result]] = {}
    errors: dict[str, dict[str, str]] = {}
    sampler = MemorySampler([s.server for s in states.values()])
    ctx = Context(sizes, workdir, flow_python, states, sampler)
    try:
        for label, state in states.items():
            first = state.server.start()
            results.setdefault("first start (empty database)", {})[label] = Result(
                {"health s": first[0]}
            )
            if args.only in ("searches", "unanalysed"):
                unanalysed = args.only == "unanalysed"
                log(f"seeding {label}{' without ANALYZE' if unanalysed else ''}")
                searched = UNANALYSED_SIZES if unanalysed else sizes.search_runs
                seed_searches(state, searched, analyse=not unanalysed)
            elif args.only is None:
                log(f"seeding {label}")
                seed(state, sizes)
        if args.only is None:
            results["cold start"] = cold_starts(states, sizes)
        sampler.start()
        if args.only in ("searches", "unanalysed"):
            plan = search_scenarios(sizes, args.only == "unanalysed")
        elif args.only == "traces":
            plan = trace_scenarios(sizes)
        elif args.only == "writes":
            plan = write_scenarios()
        else:
            plan = scenarios(sizes, flow_python is not None)
        for name, scenario in plan:
            for label, state in states.items():
                try:
                    result = scenario(ctx, state)
                except Exception as exc:  # recorded as a failure; the run goes on
                    traceback.print_exc()
                    errors.setdefault(name, {})[label] = f"{type(exc).__name__}: {exc}"
                    log(f"{name} / {label}: FAILED {exc}")
                    continue
                results.setdefault(name, {})[label] = result
                shown = ", ".join(f"{k} {v:,.1f}" for k, v in list(result.values.items())[:2])
                log(f"{name} / {label}: {shown}")
        sampler.stop()
        results["peak RSS"] = {
            label: Result({"peak RSS MB": peak / MB}) for label, peak in sampler.peaks.items()
        }
    finally:
        for state in states.values():
            state.server.stop()
            if not args.keep:
                state.server.database.drop()

    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": args.backend,
        "mode": "quick" if args.quick else "full",
        "scenarios": args.only or "all",
        "servers": labels,
        "machine": environment.machine(),
        "versions": environment.versions(args.backend, mlflow_python),
        "sizes": {k: v for k, v in vars(sizes).items()},
        "results": {
            name: {label: {"values": r.values, "details": r.details} for label, r in row.items()}
            for name, row in results.items()
        },
        "errors": errors,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = args.output or RESULTS_DIR / f"{args.backend}-{record['mode']}-{int(time.time())}.json"
    Path(out).write_text(json.dumps(record, indent=1, default=str))
    print(report.table(record))
    log(f"results: {out}")
    if args.report:
        report.update_document(Path(args.report), record)
        log(f"updated {args.report}")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument(
        "--servers",
        default=",".join(SERVER_LABELS),
        help="comma-separated subset of: " + ", ".join(SERVER_LABELS),
    )
    parser.add_argument(
        "--mlflow-venv",
        type=Path,
        default=REPO_ROOT / "bench" / ".venv-mlflow",
        help="throwaway virtualenv for mlflow (created if missing)",
    )
    parser.add_argument(
        "--only",
        choices=ONLY,
        default=None,
        help="only one group of scenarios, without the full seeding and cold starts: "
        + "; ".join(f"{name}: {what}" for name, what in ONLY.items()),
    )
    parser.add_argument(
        "--trace-search-sizes",
        type=lambda text: [int(n) for n in text.split(",")],
        default=None,
        help="comma-separated trace counts for search_traces (default: 10000,100000)",
    )
    parser.add_argument("--workdir", type=Path, default=None, help="parent of the scratch dir")
    parser.add_argument("--output", type=Path, default=None, help="results JSON path")
    parser.add_argument("--report", default=None, help="markdown document to update")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
