"""The two scenarios seen from a real user: the mlflow client, and the web UI's page load.

The UI scenario is a cold page load at the HTTP level, not a browser render: the HTML
shell, every script and stylesheet it references (ES module imports followed, as a
browser does), then the API calls the experiment's runs table makes, over the 10k-run
experiment. Requests go one after another, so it is an upper bound on a browser's time.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import orjson

from bench.client import BenchError, Client
from bench.scenarios.base import Context, Result, ServerState, latency_summary, repeat

FLOW_SCRIPT = Path(__file__).resolve().parents[1] / "mlflow_flow.py"
ASSET = re.compile(rb"""(?:src|href)=["']([^"'#?]+\.(?:js|css|svg))["']""")
IMPORT = re.compile(rb"""(?:import|from)\s*["'](\.{1,2}/[^"']+\.js)["']""")
RUNS_PAGE = 100


def mlflow_client_flow(ctx: Context, state: ServerState) -> Result:
    if ctx.mlflow_python is None:
        raise BenchError("the mlflow client flow needs the mlflow virtualenv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_TRACKING_URI"] = state.server.url
    done = subprocess.run(
        [str(ctx.mlflow_python), str(FLOW_SCRIPT), str(ctx.sizes.flow_runs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=ctx.workdir,
    )
    if done.returncode != 0:
        raise BenchError(f"mlflow client flow failed: {done.stderr[-2000:]}")
    report = orjson.loads(done.stdout.strip().splitlines()[-1])
    return Result(
        {"seconds": report["seconds"], "calls/s": report["calls"] / report["seconds"]},
        report,
    )


def _assets(client: Client, path: str, seen: set[str]) -> int:
    """GET ``path`` and, for JS, its relative imports; the bytes transferred."""
    if path in seen:
        return 0
    seen.add(path)
    body = client.get_ok(path)
    size = len(body)
    if path.endswith(".js"):
        base = path.rsplit("/", 1)[0]
        for found in IMPORT.findall(body):
            size += _assets(client, _join(base, found.decode()), seen)
    return size


def _join(base: str, relative: str) -> str:
    parts = base.split("/")
    for piece in relative.split("/"):
        if piece == "..":
            parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def ui_runs_page(ctx: Context, state: ServerState) -> Result:
    client = Client(state.server.url)
    transferred = 0

    def once() -> None:
        nonlocal transferred
        html = client.get_ok("/")
        seen: set[str] = set()
        size = len(html)
        for ref in ASSET.findall(html):
            link = ref.decode()
            if link.startswith(("http:", "https:", "//")):
                continue
            size += _assets(client, link if link.startswith("/") else f"/{link}", seen)
        experiment = client.get("experiments/get", experiment_id=state.ui_experiment)
        if "experiment" not in experiment:
            raise BenchError("UI page: experiments/get returned no experiment")
        status, data = client.request(
            "POST",
            "/ajax-api/2.0/mlflow/runs/search",
            orjson.dumps(
                {
                    "experiment_ids": [state.ui_experiment],
                    "max_results": RUNS_PAGE,
                    "order_by": ["attributes.start_time DESC"],
                }
            ),
            {"Content-Type": "application/json"},
        )
        if status != 200 or len(orjson.loads(data).get("runs", [])) != RUNS_PAGE:
            raise BenchError(f"UI page: runs/search HTTP {status}")
        transferred = size + len(data)

    once()
    samples = repeat(once, ctx.sizes.ui_repeats, ctx.sizes.time_cap, ctx.sizes.min_repeats)
    client.close()
    return Result(latency_summary("", samples), {"bytes": transferred, "repeats": len(samples)})
