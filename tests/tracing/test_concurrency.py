"""Eight threads tracing at once: every span of every trace arrives and reads back."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import mlflow

from tests.tracing.conftest import flush

THREADS, TRACES_PER_THREAD, CHILDREN = 8, 3, 5


@mlflow.trace(name="request")
def request(worker: int, n: int) -> str:
    for child in range(CHILDREN):
        with mlflow.start_span(f"step-{child}") as span:
            span.set_attribute("worker", worker)
    mlflow.update_current_trace(tags={"worker": str(worker), "n": str(n)})
    return f"{worker}-{n}"


def test_concurrent_clients(experiment: str) -> None:
    def work(worker: int) -> None:
        for n in range(TRACES_PER_THREAD):
            request(worker, n)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(work, range(THREADS)))
    flush()
    found = mlflow.search_traces(locations=[experiment], return_type="list", max_results=1000)
    assert len(found) == THREADS * TRACES_PER_THREAD
    for trace in found:
        assert len(trace.data.spans) == CHILDREN + 1
        assert trace.info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
        worker = trace.info.tags["worker"]
        assert {s.attributes.get("worker") for s in trace.data.spans} == {int(worker), None}
        assert trace.data.spans[0].outputs == f"{worker}-{trace.info.tags['n']}"
