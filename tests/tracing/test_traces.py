"""Traces and spans through the real client: what is written is what comes back."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.entities import SpanStatusCode, SpanType

from tests.tracing.conftest import flush


@mlflow.trace(span_type=SpanType.TOOL)
def lookup(city: str) -> dict[str, object]:
    return {"city": city, "temperature": 21.5}


@mlflow.trace(name="agent", span_type=SpanType.AGENT, attributes={"team": "weather"})
def agent(question: str) -> str:
    with mlflow.start_span("plan", span_type=SpanType.CHAIN) as span:
        span.set_inputs({"question": question})
        span.set_attribute("steps", [1, 2, 3])
        span.add_event(mlflow.entities.SpanEvent("thinking", attributes={"depth": 2}))
        span.set_outputs(["lookup"])
    found = lookup("Zürich")
    mlflow.update_current_trace(tags={"owner": "ana"}, metadata={"session": "s-1"})
    return f"{found['city']}: {found['temperature']}"


@mlflow.trace
def broken(x: int) -> int:
    raise ValueError(f"bad input {x}")


def test_trace_tree_round_trips(experiment: str) -> None:
    assert agent("weather?") == "Zürich: 21.5"
    trace_id = mlflow.get_last_active_trace_id()
    flush()
    local = mlflow.get_trace(trace_id)  # read back through the server
    assert local is not None
    info = local.info
    assert info.experiment_id == experiment
    assert info.state.value == "OK"
    assert info.tags["owner"] == "ana"
    assert info.trace_metadata["session"] == "s-1"
    assert info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert info.execution_duration is not None and info.request_time > 0
    spans = {s.name: s for s in local.data.spans}
    assert set(spans) == {"agent", "plan", "lookup"}
    root, plan, tool = spans["agent"], spans["plan"], spans["lookup"]
    assert root.parent_id is None
    assert plan.parent_id == root.span_id and tool.parent_id == root.span_id
    assert root.span_type == SpanType.AGENT and tool.span_type == SpanType.TOOL
    assert root.attributes["team"] == "weather"
    assert root.inputs == {"question": "weather?"}
    assert root.outputs == "Zürich: 21.5"
    assert plan.inputs == {"question": "weather?"} and plan.outputs == ["lookup"]
    assert plan.attributes["steps"] == [1, 2, 3]
    assert [(e.name, e.attributes) for e in plan.events] == [("thinking", {"depth": 2})]
    assert tool.inputs == {"city": "Zürich"}
    assert tool.outputs == {"city": "Zürich", "temperature": 21.5}
    assert root.start_time_ns <= plan.start_time_ns <= plan.end_time_ns <= root.end_time_ns
    assert all(s.status.status_code == SpanStatusCode.OK for s in spans.values())
    assert info.request_preview and "weather?" in info.request_preview


def test_exception_is_an_error_trace_with_the_event(experiment: str) -> None:
    with pytest.raises(ValueError):
        broken(7)
    trace_id = mlflow.get_last_active_trace_id()
    flush()
    got = mlflow.get_trace(trace_id)
    assert got.info.state.value == "ERROR"
    (span,) = got.data.spans
    assert span.status.status_code == SpanStatusCode.ERROR
    (event,) = span.events
    assert event.name == "exception"
    assert "bad input 7" in event.attributes["exception.message"]
    assert event.attributes["exception.type"] == "ValueError"


def test_unknown_trace_is_none(tracking_uri: str) -> None:
    assert mlflow.get_trace("tr-" + "0" * 32) is None
