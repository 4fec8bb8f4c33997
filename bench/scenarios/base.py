"""What every scenario shares: the run's context, its sizes, timing helpers, and results."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.client import MB
from bench.servers import MemorySampler, Server


@dataclass(frozen=True)
class Sizes:
    """How much work each scenario does; ``quick`` is a smoke test of the harness."""

    baseline_requests: int
    log_metric_requests: int
    concurrent_requests: int  # per client
    batches: int
    created_runs: int
    search_runs: tuple[int, ...]
    search_traces: tuple[int, ...]
    search_repeats: int
    history_points: tuple[int, ...]
    history_repeats: int
    artifact_sizes: tuple[int, ...]
    ui_repeats: int
    cold_starts: int
    flow_runs: int
    #: Wall-clock cap per scenario and server: a slow server does fewer requests, never
    #: fewer than ``min_repeats`` where repeats are counted.
    time_cap: float
    min_repeats: int = 3


QUICK = Sizes(
    baseline_requests=300,
    log_metric_requests=100,
    concurrent_requests=20,
    batches=3,
    created_runs=20,
    search_runs=(200, 1000),
    search_traces=(1000,),
    search_repeats=3,
    history_points=(10_000,),
    history_repeats=2,
    artifact_sizes=(5 * MB,),
    ui_repeats=2,
    cold_starts=1,
    flow_runs=2,
    time_cap=10.0,
    min_repeats=1,
)

FULL = Sizes(
    baseline_requests=5000,
    log_metric_requests=3000,
    concurrent_requests=400,
    batches=40,
    created_runs=500,
    search_runs=(1_000, 10_000, 100_000),
    search_traces=(10_000, 100_000),
    search_repeats=30,
    history_points=(100_000, 1_000_000),
    history_repeats=5,
    artifact_sizes=(50 * MB, 1024 * MB),
    ui_repeats=10,
    cold_starts=3,
    flow_runs=10,
    time_cap=30.0,
    min_repeats=2,
)


@dataclass
class ServerState:
    """What setup left on one server: seeded experiments and the answers they must give."""

    server: Server
    search: dict[int, tuple[str, list[str]]] = field(default_factory=dict)  # size -> (exp, ids)
    unanalysed: dict[int, tuple[str, list[str]]] = field(default_factory=dict)  # the same
    history: dict[int, str] = field(default_factory=dict)  # points -> run id
    ui_experiment: str = ""
    traces: dict[int, tuple[str, list[str]]] = field(default_factory=dict)  # size -> (exp, ids)
    big_trace: str = ""  # the id of a trace of 1,000 spans


@dataclass
class Context:
    sizes: Sizes
    workdir: Path
    mlflow_python: Path | None
    states: dict[str, ServerState]
    sampler: MemorySampler


@dataclass
class Result:
    """One scenario on one server: headline numbers plus details for the JSON record."""

    values: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


Scenario = Callable[[Context, ServerState], Result]


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def repeat(fn: Callable[[], None], times: int, cap: float, minimum: int) -> list[float]:
    """Run ``fn`` up to ``times`` times (at least ``minimum``) within ``cap`` seconds."""
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < times:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
        if len(samples) >= minimum and time.perf_counter() - started > cap:
            break
    return samples


def latency_summary(prefix: str, samples: list[float]) -> dict[str, float]:
    """p50/p95 in milliseconds."""
    return {
        f"{prefix} p50 ms": percentile(samples, 50) * 1000,
        f"{prefix} p95 ms": percentile(samples, 95) * 1000,
    }
