"""Results as tables: ratios, targets, the markdown document and an optional plot.

``python -m bench.report RESULTS.json... [--doc docs/benchmarks.md] [--plot PNG]`` renders
saved runs again (``bench.run --report`` does the same for the run it just made).
"""

# ruff: noqa: RUF001 - the tables print the multiplication sign and an en dash on purpose
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OTHERS = ("mlflow", "mlflow-w1")
INFORMATIONAL = (
    "client CPU %",
    "processes",
    "idle PSS MB",
    "calls/s",
    "batches/s",
    "RSS growth MB",
    "database connections opened",
)


def higher_is_better(key: str) -> bool:
    return key.endswith("/s")


def _value(record: dict[str, Any], scenario: str, label: str, key: str) -> float | None:
    found = record["results"].get(scenario, {}).get(label)
    if found is None:
        return None
    value = found["values"].get(key)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def ratio(record: dict[str, Any], scenario: str, key: str, other: str) -> float | None:
    """How many times better Stratus is than ``other`` (above 1: Stratus wins)."""
    ours, theirs = _value(record, scenario, "stratus", key), _value(record, scenario, other, key)
    if not ours or not theirs:
        return None
    return ours / theirs if higher_is_better(key) else theirs / ours


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _times(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}×" if value < 100 else f"{value:,.0f}×"


def table(record: dict[str, Any]) -> str:
    labels = record["servers"]
    others = [o for o in OTHERS if o in labels]
    head = ["scenario", "metric", *labels, *(f"× {o}" for o in others if "stratus" in labels)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for scenario, row in record["results"].items():
        keys = list(next(iter(row.values()))["values"])
        for key in keys:
            cells = [scenario, key]
            cells += [_fmt(_value(record, scenario, label, key)) for label in labels]
            if "stratus" in labels:
                shown = key not in INFORMATIONAL
                cells += [_times(ratio(record, scenario, key, o)) if shown else "" for o in others]
            lines.append("| " + " | ".join(cells) + " |")
    for scenario, failed in record.get("errors", {}).items():
        for label, message in failed.items():
            lines.append(f"| {scenario} | **FAILED** on {label}: {message[:120]} |")
    return "\n".join(lines)


# --- targets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    title: str
    scenario: str
    key: str
    bound: float | None = None  # the absolute limit (max if lower is better, else min)
    min_ratio: float | None = None
    versus: str = "best"  # "mlflow", "mlflow-w1", or "best" (the stronger of the two)
    unit: str = ""


TARGETS = [
    Target("cold start", "cold start", "health s", 1.0, 8, "mlflow", " s"),
    Target("idle RSS", "cold start", "idle RSS MB", 100, 20, "mlflow", " MB"),
    Target("peak RSS under load", "peak RSS", "peak RSS MB", 250, None, "best", " MB"),
    Target("log-metric, sequential", "log-metric", "req/s", None, 10, "mlflow-w1"),
    Target("log-metric, 8 clients", "log-metric x8", "req/s", None, 10, "mlflow-w1"),
    Target("log-batch (rows/s)", "log-batch", "rows/s", 100_000, 12),
    Target("create runs", "create runs", "runs/s", None, 10),
    Target("search at 10k runs, p50", "search 10000", " p50 ms", 30, None, unit=" ms"),
    Target("search at 100k runs, p50", "search 100000", " p50 ms", 100, None, unit=" ms"),
    Target("get-history 100k points, p50", "history 100000", " p50 ms", 250, 15, unit=" ms"),
    Target("OTLP ingest, 1 client", "otlp ingest", "traces/s", None, 10, "mlflow-w1"),
    Target("OTLP ingest, 8 clients", "otlp ingest x8", "traces/s", None, 10, "mlflow-w1"),
    Target("search_traces at 10k, p50", "search_traces 10000", " p50 ms", None, 10, "mlflow-w1"),
    Target("search_traces at 100k, p50", "search_traces 100000", " p50 ms", None, 10, "mlflow-w1"),
    Target(
        "get_trace of 1,000 spans, p50", "get_trace 1000 spans", " p50 ms", None, 10, "mlflow-w1"
    ),
]

#: Largest growth of the server's RSS during one artifact transfer that still counts as flat.
FLAT_MEMORY_MB = 64


def _ratio_versus(record: dict[str, Any], target: Target) -> tuple[float | None, str]:
    if target.versus != "best":
        return ratio(record, target.scenario, target.key, target.versus), target.versus
    found = [
        (r, o) for o in OTHERS if (r := ratio(record, target.scenario, target.key, o)) is not None
    ]
    return min(found) if found else (None, "mlflow")


def check_targets(record: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(target, wanted, measured, verdict) for each target this run can judge."""
    rows = []
    for t in TARGETS:
        ours = _value(record, t.scenario, "stratus", t.key)
        if ours is None:
            continue
        wanted, measured, misses = [], [f"{_fmt(ours)}{t.unit}"], []
        if t.bound is not None:
            lower = not higher_is_better(t.key)
            wanted.append(f"{'≤' if lower else '≥'} {_fmt(t.bound)}{t.unit}")
            if (ours > t.bound) if lower else (ours < t.bound):
                misses.append(f"{ours / t.bound if lower else t.bound / ours:.1f}× off the bound")
        if t.min_ratio is not None:
            got, versus = _ratio_versus(record, t)
            wanted.append(f"≥ {t.min_ratio:g}× {versus}")
            if got is not None:
                measured.append(f"{got:.1f}× {versus}")
                if got < t.min_ratio:
                    misses.append(f"ratio {got:.1f}× < {t.min_ratio:g}×")
        rows.append((t.title, ", ".join(wanted), ", ".join(measured), _verdict(misses)))
    rows += _client_bound(record) + _artifact_targets(record)
    return rows


def _verdict(misses: list[str]) -> str:
    return "met" if not misses else "**missed**: " + "; ".join(misses)


def _client_bound(record: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """log-metric within 2x of what the client alone pushes through GET /health."""
    ours = _value(record, "log-metric", "stratus", "req/s")
    alone = _value(record, "baseline", "stratus", "req/s")
    if not ours or not alone:
        return []
    share = alone / ours
    return [
        (
            "log-metric vs the client alone (GET /health)",
            "within 2× of the baseline",
            f"{_fmt(ours)} vs {_fmt(alone)} req/s ({share:.1f}×)",
            _verdict([] if share <= 2 else [f"{share:.1f}× slower than /health"]),
        )
    ]


def _artifact_targets(record: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    for scenario in record["results"]:
        if not scenario.startswith("artifact"):
            continue
        for key in ("up MB/s", "down MB/s"):
            got, versus = _ratio_versus(record, Target("", scenario, key))
            ours = _value(record, scenario, "stratus", key)
            if got is None or ours is None:
                continue
            rows.append(
                (
                    f"{scenario} {key.split()[0]}",
                    f"≥ 1× {versus}",
                    f"{_fmt(ours)} MB/s, {got:.1f}× {versus}",
                    _verdict([] if got >= 1 else [f"{got:.2f}× of mlflow's throughput"]),
                )
            )
        growth = _value(record, scenario, "stratus", "RSS growth MB")
        if growth is not None:
            rows.append(
                (
                    f"{scenario} memory",
                    f"flat (growth < {FLAT_MEMORY_MB} MB)",
                    f"+{_fmt(growth)} MB",
                    _verdict([] if growth < FLAT_MEMORY_MB else ["memory grew"]),
                )
            )
    return rows


def targets_table(record: dict[str, Any]) -> str:
    lines = ["| target | wanted | measured | verdict |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in check_targets(record)]
    return "\n".join(lines)


# --- the document ----------------------------------------------------------------------


def section(record: dict[str, Any]) -> str:
    m, v = record["machine"], record["versions"]
    facts = (
        f"{record['mode']} run, {record['date']}; {m['nproc']} CPUs ({m['cpu']}), "
        f"{m['memory GiB']} GiB; {m['os']}; Python {m['python']}; "
        + ", ".join(f"{k} {val}" for k, val in v.items())
    )
    return "\n\n".join(
        [
            f"_{facts}_",
            "Targets:",
            targets_table(record),
            "All numbers (× = how many times better Stratus is; above 1 Stratus wins):",
            table(record),
        ]
    )


def update_document(path: Path, record: dict[str, Any]) -> None:
    """Replace this backend's block between its markers (or append one)."""
    part = record.get("scenarios", "all")
    name = record["backend"] + ("" if part == "all" else f"-{part}")
    begin = f"<!-- bench:{name}:begin -->"
    end = f"<!-- bench:{name}:end -->"
    block = f"{begin}\n{section(record)}\n{end}"
    text = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = f"{text.rstrip()}\n\n## Results: {name}\n\n{block}\n"
    path.write_text(text)


HEADLINES = [
    ("cold start", "health s", "cold start"),
    ("cold start", "idle RSS MB", "idle RSS"),
    ("log-metric", "req/s", "log-metric"),
    ("log-metric x8", "req/s", "log-metric ×8"),
    ("log-batch", "rows/s", "log-batch"),
    ("create runs", "runs/s", "create runs"),
    ("search 10000", " p50 ms", "search 10k"),
    ("search 100000", " p50 ms", "search 100k"),
    ("history 100000", " p50 ms", "history 100k"),
    ("history 1000000", " p50 ms", "history 1M"),
    ("artifact 1024 MB", "up MB/s", "1 GB up"),
    ("artifact 1024 MB", "down MB/s", "1 GB down"),
    ("ui runs page", " p50 ms", "UI runs page"),
]


def plot(records: list[dict[str, Any]], path: Path) -> None:
    """Speed-up over mlflow --workers 1, per scenario and database (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 6))
    height = 0.8 / max(len(records), 1)
    names = [title for _, _, title in HEADLINES]
    for i, record in enumerate(records):
        values = [ratio(record, s, k, "mlflow-w1") or 0 for s, k, _ in HEADLINES]
        ax.barh(
            [y + i * height for y in range(len(names))],
            values,
            height=height,
            label=record["backend"],
        )
    ax.set_yticks([y + height * (len(records) - 1) / 2 for y in range(len(names))], names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1, color="black", linewidth=0.8)
    ax.set_xlabel("times better than mlflow server --workers 1 (log scale)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--doc", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args(argv)
    records = [json.loads(p.read_text()) for p in args.results]
    for record in records:
        print(f"\n## {record['backend']}\n\n{section(record)}")
        if args.doc:
            update_document(args.doc, record)
    if args.plot:
        plot(records, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
