"""Traces: OTLP ingest over one client and eight, search_traces over seeded traces, and
get_trace of a 1,000-span trace.

Spans go in as the mlflow client sends them: ``POST /v1/traces``, a protobuf
``ExportTraceServiceRequest`` with the experiment in the ``x-mlflow-experiment-id`` header,
MLflow's span attributes (``mlflow.spanType``, JSON inputs and outputs). Every ingest is
read back by searching the experiment; searches must return the exact trace ids the seed
predicts, and get_trace the exact number of spans. Seeding is not timed: one trace goes in
through the same endpoint and is copied by direct SQL into each server's own tables.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from bench.client import JSON_HEADERS, BenchError, Client
from bench.scenarios.base import (
    Context,
    Result,
    Scenario,
    ServerState,
    latency_summary,
    repeat,
)
from bench.trace_seed import clone_trace

SPANS_PER_TRACE = 10
BIG_TRACE_SPANS = 1000
SEARCH_PAGE = 100
API3 = "/api/3.0/mlflow"
BASE_NS = 1_700_000_000_000 * 1_000_000


def _attribute(key: str, value: Any) -> KeyValue:
    """An MLflow span attribute: its value JSON-encoded into a string, as the client does."""
    return KeyValue(key=key, value=AnyValue(string_value=json.dumps(value)))


def _span(trace_id: bytes, index: int, start_ns: int, parent: bytes | None) -> Span:
    span_id = (index + 1).to_bytes(8, "big")
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent or b"",
        name="root" if parent is None else f"step-{index}",
        start_time_unix_nano=start_ns + index * 1000,
        end_time_unix_nano=start_ns + 5_000_000 + index * 1000,
        status=Status(code=Status.STATUS_CODE_OK),
        attributes=[
            _attribute("mlflow.traceRequestId", "tr-" + trace_id.hex()),
            _attribute("mlflow.spanType", "CHAIN" if parent is None else "LLM"),
            _attribute("mlflow.spanInputs", {"question": f"what is {index}?", "k": index}),
            _attribute("mlflow.spanOutputs", {"answer": "x" * 120}),
            _attribute("model", "bench-model"),
        ],
    )


def otlp_body(traces: Sequence[tuple[bytes, int]], spans_per_trace: int) -> bytes:
    """One export request holding each ``(trace_id, start_ns)`` as a root and its children."""
    spans = []
    for trace_id, start_ns in traces:
        root = _span(trace_id, 0, start_ns, None)
        spans.append(root)
        spans += [_span(trace_id, i, start_ns, root.span_id) for i in range(1, spans_per_trace)]
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    scope.spans.extend(spans)
    return request.SerializeToString()


def new_trace_id() -> bytes:
    return os.urandom(16)


def export(client: Client, experiment_id: str, body: bytes) -> None:
    headers = {"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id}
    status, data = client.request("POST", "/v1/traces", body, headers)
    if status != 200:
        raise BenchError(f"/v1/traces: HTTP {status}: {data[:300]!r}")


def _experiment(client: Client, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return str(client.post("experiments/create", {"name": name})["experiment_id"])


def _search_body(experiment_id: str, max_results: int, token: str | None = None) -> bytes:
    body: dict[str, Any] = {
        "locations": [
            {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}
        ],
        "max_results": max_results,
        "order_by": ["timestamp_ms DESC"],
    }
    if token:
        body["page_token"] = token
    return orjson.dumps(body)


def _search(
    client: Client, experiment_id: str, max_results: int, token: str | None = None
) -> tuple[list[str], str | None]:
    status, data = client.request(
        "POST",
        f"{API3}/traces/search",
        _search_body(experiment_id, max_results, token),
        JSON_HEADERS,
    )
    if status != 200:
        raise BenchError(f"traces/search: HTTP {status}: {data[:300]!r}")
    page = orjson.loads(data)
    return [t["trace_id"] for t in page.get("traces", [])], page.get("next_page_token")


def _count(client: Client, experiment_id: str) -> int:
    count, token = 0, None
    while True:
        ids, token = _search(client, experiment_id, 500, token)
        count += len(ids)
        if not token:
            return count


# --- ingest ------------------------------------------------------------------------------


def _ingest_result(sent: int, wall: float, latencies: list[float], cpu: float) -> Result:
    return Result(
        {
            "traces/s": sent / wall,
            **latency_summary("", latencies),
            "spans/s": sent * SPANS_PER_TRACE / wall,
            "server CPU ms/trace": 1000 * cpu / max(sent, 1),
        },
        {"traces": sent, "spans per trace": SPANS_PER_TRACE},
    )


def ingest(clients: int) -> Scenario:
    """``clients`` threads, each exporting traces of 10 spans one request per trace."""

    def scenario(ctx: Context, state: ServerState) -> Result:
        setup = Client(state.server.url)
        experiment_id = _experiment(setup, f"bench-otlp-{clients}")
        per_client = ctx.sizes.log_metric_requests // clients if clients > 1 else None
        count = per_client or ctx.sizes.log_metric_requests
        sent = [0] * clients
        latencies: list[list[float]] = [[] for _ in range(clients)]
        errors: list[BaseException] = []
        barrier = threading.Barrier(clients + 1)
        # Warm-up, not timed: the server's first export loads its OTLP code.
        export(setup, experiment_id, otlp_body([(new_trace_id(), BASE_NS)], SPANS_PER_TRACE))

        def worker(index: int) -> None:
            client = Client(state.server.url)
            try:
                bodies = [
                    otlp_body([(new_trace_id(), BASE_NS + i * 1_000_000)], SPANS_PER_TRACE)
                    for i in range(count)
                ]
                barrier.wait()
                started = time.perf_counter()
                for body in bodies:
                    t0 = time.perf_counter()
                    export(client, experiment_id, body)
                    latencies[index].append(time.perf_counter() - t0)
                    sent[index] += 1
                    if t0 - started > ctx.sizes.time_cap:
                        break
            except BaseException as exc:  # surfaced below, after every thread is joined
                errors.append(exc)
            finally:
                client.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        barrier.wait()
        cpu0, started = state.server.cpu_seconds(), time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        cpu = state.server.cpu_seconds() - cpu0
        if errors:
            raise errors[0]
        stored = _count(setup, experiment_id)
        setup.close()
        if stored != sum(sent) + 1:
            raise BenchError(f"OTLP ingest: sent {sum(sent)} traces, search finds {stored}")
        every = [x for lat in latencies for x in lat]
        return _ingest_result(sum(sent), wall, every, cpu)

    scenario.__name__ = f"otlp_ingest_x{clients}"
    return scenario


# --- reads -------------------------------------------------------------------------------


def seed_traces(state: ServerState, size: int) -> None:
    """``size`` one-span traces 1 ms apart in a fresh experiment (not timed): the first
    through ``POST /v1/traces``, the rest copied from it by direct SQL (bench/trace_seed.py).
    """
    client = Client(state.server.url)
    experiment_id = _experiment(client, f"bench-traces-{size}")
    ids = [new_trace_id() for _ in range(size)]
    export(client, experiment_id, otlp_body([(ids[0], BASE_NS)], 1))
    start_ms = BASE_NS // 1_000_000
    clone_trace(
        state.server.database,
        "tr-" + ids[0].hex(),
        [("tr-" + ids[i].hex(), start_ms + i) for i in range(1, size)],
        start_ms,
    )
    expected = ["tr-" + trace_id.hex() for trace_id in reversed(ids[-SEARCH_PAGE:])]
    state.traces[size] = (experiment_id, expected)
    big = new_trace_id()
    if not state.big_trace:
        export(client, experiment_id, otlp_body([(big, BASE_NS)], BIG_TRACE_SPANS))
        state.big_trace = "tr-" + big.hex()
    client.close()


def search(size: int) -> Scenario:
    def scenario(ctx: Context, state: ServerState) -> Result:
        if size not in state.traces:
            seed_traces(state, size)
        experiment_id, expected = state.traces[size]
        client = Client(state.server.url)

        def once() -> None:
            got, _ = _search(client, experiment_id, SEARCH_PAGE)
            if got != expected:
                raise BenchError(f"search_traces {size}: wrong traces ({len(got)})")

        once()  # warm-up
        cpu0 = state.server.cpu_seconds()
        samples = repeat(once, ctx.sizes.search_repeats, ctx.sizes.time_cap, ctx.sizes.min_repeats)
        cpu = state.server.cpu_seconds() - cpu0
        client.close()
        return Result(
            {**latency_summary("", samples), "server CPU ms/op": 1000 * cpu / len(samples)},
            {"repeats": len(samples)},
        )

    scenario.__name__ = f"search_traces_{size}"
    return scenario


def get_big_trace(ctx: Context, state: ServerState) -> Result:
    """``GET traces/get`` of one trace of 1,000 spans (the client's read when spans are in
    the tracking store)."""
    if not state.big_trace:
        seed_traces(state, SEARCH_PAGE)
    client = Client(state.server.url)
    path = f"{API3}/traces/get?trace_id={state.big_trace}&allow_partial=false"

    def once() -> bytes:
        status, data = client.request("GET", path)
        if status != 200:
            raise BenchError(f"traces/get: HTTP {status}: {data[:300]!r}")
        return data

    # The warm-up answer is parsed and checked; timed answers only by status and size.
    first = once()
    spans = orjson.loads(first)["trace"]["spans"]
    if len(spans) != BIG_TRACE_SPANS:
        raise BenchError(f"traces/get: {len(spans)} spans, expected {BIG_TRACE_SPANS}")

    def timed() -> None:
        if len(once()) != len(first):
            raise BenchError("traces/get: the answer changed between reads")

    cpu0 = state.server.cpu_seconds()
    samples = repeat(timed, ctx.sizes.search_repeats, ctx.sizes.time_cap, ctx.sizes.min_repeats)
    cpu = state.server.cpu_seconds() - cpu0
    client.close()
    return Result(
        {**latency_summary("", samples), "server CPU ms/op": 1000 * cpu / len(samples)},
        {"repeats": len(samples), "spans": BIG_TRACE_SPANS},
    )
