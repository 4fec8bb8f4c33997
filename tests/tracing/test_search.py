"""search_traces through the real client: filters, order, paging, several experiments."""

from __future__ import annotations

import contextlib
import time

import mlflow
import pytest
from mlflow import MlflowClient

from tests.tracing.conftest import flush


def _traced(name: str, value: int, *, fail: bool = False, tags: dict[str, str] | None = None):
    @mlflow.trace(name=name)
    def work(x: int) -> int:
        with mlflow.start_span(f"step-{name}", span_type="RETRIEVER") as span:
            span.set_attribute("source", name)
            span.set_attribute("top_k", x)
        if tags:
            mlflow.update_current_trace(tags=tags, metadata={"value": str(x)})
        if fail:
            raise RuntimeError("boom")
        return x * 2

    with contextlib.suppress(RuntimeError):
        work(value)
    time.sleep(0.01)  # distinct request times, so the expected order is certain
    return mlflow.get_last_active_trace_id()


@pytest.fixture
def three_traces(experiment: str) -> dict[str, str]:
    ids = {
        "alpha": _traced("alpha", 1, tags={"group": "a"}),
        "beta": _traced("beta", 2, tags={"group": "b"}),
        "gamma": _traced("gamma", 3, fail=True, tags={"group": "a"}),
    }
    flush()
    return ids


def _ids(experiment: str, **kwargs) -> list[str]:
    found = mlflow.search_traces(locations=[experiment], return_type="list", **kwargs)
    return [t.info.trace_id for t in found]


def test_filters(experiment: str, three_traces: dict[str, str]) -> None:
    a, b, g = three_traces["alpha"], three_traces["beta"], three_traces["gamma"]
    assert _ids(experiment) == [g, b, a]  # newest first
    assert _ids(experiment, filter_string="trace.status = 'ERROR'") == [g]
    assert _ids(experiment, filter_string="tags.group = 'a'") == [g, a]
    assert _ids(experiment, filter_string="metadata.value = '2'") == [b]
    assert _ids(experiment, filter_string="trace.name = 'beta'") == [b]
    assert _ids(experiment, filter_string="span.name = 'step-alpha'") == [a]
    assert _ids(experiment, filter_string="span.type = 'RETRIEVER' AND tags.group = 'b'") == [b]
    start = mlflow.get_trace(b).info.request_time
    assert _ids(experiment, filter_string=f"trace.timestamp_ms >= {start}") == [g, b]
    assert _ids(experiment, filter_string="trace.execution_time_ms >= 0") == [g, b, a]
    assert _ids(experiment, filter_string="tags.group LIKE 'a%'") == [g, a]
    assert _ids(experiment, filter_string="span.attributes.source = 'beta'") == [b]
    assert _ids(experiment, filter_string="span.attributes.top_k IN ('1', '3')") == [g, a]
    assert _ids(experiment, filter_string="span.content LIKE '%step-gamma%'") == [g]


def test_order_and_pages(experiment: str, three_traces: dict[str, str]) -> None:
    a, b, g = three_traces["alpha"], three_traces["beta"], three_traces["gamma"]
    assert _ids(experiment, order_by=["timestamp_ms ASC"]) == [a, b, g]
    client = MlflowClient()
    first = client.search_traces(locations=[experiment], max_results=2)
    assert [t.info.trace_id for t in first] == [g, b] and first.token
    second = client.search_traces(locations=[experiment], max_results=2, page_token=first.token)
    assert [t.info.trace_id for t in second] == [a] and not second.token
    # search results carry their spans
    assert {s.name for s in first[0].data.spans} == {"gamma", "step-gamma"}


def test_dataframe_and_several_experiments(
    experiment: str, three_traces: dict[str, str], unique: str
) -> None:
    other = mlflow.create_experiment(f"traces-other-{unique}")
    mlflow.set_experiment(experiment_id=other)
    d = _traced("delta", 4)
    flush()
    frame = mlflow.search_traces(locations=[experiment, other])
    assert len(frame) == 4
    assert frame["trace_id"].iloc[0] == d
    assert set(frame["trace_id"]) == {*three_traces.values(), d}


@pytest.mark.parametrize(
    "bad",
    [
        "nonsense.x = 1",
        "span.attributes. = 'x'",
        "span.colour = 'red'",
        "trace.status = 'OK' OR trace.status = 'ERROR'",
        "trace.timestamp_ms > 'yesterday'",
    ],
)
def test_bad_filter_is_a_400(experiment: str, bad: str) -> None:
    with pytest.raises(mlflow.exceptions.MlflowException, match="INVALID_PARAMETER_VALUE"):
        MlflowClient().search_traces(locations=[experiment], filter_string=bad)
