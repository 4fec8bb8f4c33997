"""Read paths over seeded data: run search at growing sizes, and long metric histories.

Search answers are checked run id by run id against the seeded data; history answers
point by point count. Timings stop at the last byte of the response; parsing and
checking happen after the clock stops, so the client's JSON decoding is not counted.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import orjson

from bench.client import API, JSON_HEADERS, BenchError, Client
from bench.scenarios.base import Context, Result, ServerState, latency_summary, repeat
from bench.seed import (
    HISTORY_KEY,
    SEARCH_FILTER,
    SEARCH_ORDER,
    SEARCH_PAGE,
    UNANALYSED_FILTER,
    UNANALYSED_ORDER,
)


def search(size: int, *, unanalysed: bool = False):
    """The filtered, ordered search; ``unanalysed``: issue 20's, on tables never analysed."""
    search_filter, order = (
        (UNANALYSED_FILTER, UNANALYSED_ORDER) if unanalysed else (SEARCH_FILTER, SEARCH_ORDER)
    )

    def scenario(ctx: Context, state: ServerState) -> Result:
        experiment_id, expected = (state.unanalysed if unanalysed else state.search)[size]
        client = Client(state.server.url)
        body = orjson.dumps(
            {
                "experiment_ids": [experiment_id],
                "filter": search_filter,
                "order_by": order,
                "max_results": SEARCH_PAGE,
            }
        )

        def once() -> None:
            status, data = client.request("POST", f"{API}/runs/search", body, JSON_HEADERS)
            if status != 200:
                raise BenchError(f"search {size}: HTTP {status}: {data[:300]!r}")
            got = [r["info"]["run_id"] for r in orjson.loads(data).get("runs", [])]
            if got != expected:
                raise BenchError(f"search {size}: wrong runs ({len(got)} vs {len(expected)})")

        once()  # warm-up: first touch of the pages, plan caches
        samples = repeat(once, ctx.sizes.search_repeats, ctx.sizes.time_cap, ctx.sizes.min_repeats)
        client.close()
        return Result(latency_summary("", samples), {"repeats": len(samples)})

    scenario.__name__ = f"search_{'unanalysed_' if unanalysed else ''}{size}"
    return scenario


def history(points: int):
    def scenario(ctx: Context, state: ServerState) -> Result:
        run_id = state.history[points]
        client = Client(state.server.url)
        query = urlencode({"run_id": run_id, "metric_key": HISTORY_KEY})
        bodies: list[bytes] = []

        def once() -> None:
            bodies.clear()
            path = f"{API}/metrics/get-history?{query}"
            while True:
                status, data = client.request("GET", path)
                if status != 200:
                    raise BenchError(f"history {points}: HTTP {status}: {data[:300]!r}")
                bodies.append(data)
                # Only a paged answer is parsed inside the clock (to find its token).
                if b'"next_page_token"' not in data:
                    return
                token = orjson.loads(data).get("next_page_token")
                if not token:
                    return
                path = f"{API}/metrics/get-history?{query}&{urlencode({'page_token': token})}"

        samples: list[float] = []
        started = time.perf_counter()
        while len(samples) < ctx.sizes.history_repeats:
            t0 = time.perf_counter()
            once()
            samples.append(time.perf_counter() - t0)
            _check(bodies, points)  # outside the timed part
            if len(samples) >= ctx.sizes.min_repeats and time.perf_counter() - started > (
                ctx.sizes.time_cap
            ):
                break
        client.close()
        size = sum(len(b) for b in bodies)
        return Result(
            {**latency_summary("", samples)},
            {"repeats": len(samples), "response bytes": size},
        )

    scenario.__name__ = f"history_{points}"
    return scenario


def _check(bodies: list[bytes], points: int) -> None:
    metrics = [m for body in bodies for m in orjson.loads(body).get("metrics", [])]
    if len(metrics) != points:
        raise BenchError(f"history: got {len(metrics)} points, expected {points}")
    if int(metrics[0].get("step", 0)) != 0 or int(metrics[-1]["step"]) != points - 1:
        raise BenchError("history: points out of order")
