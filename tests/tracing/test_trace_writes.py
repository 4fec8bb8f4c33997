"""Trace tags, deletion, run and logged-model links, assessments: written, then read back."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import AssessmentSource, AssessmentSourceType

from tests.tracing.conftest import flush


@mlflow.trace
def answer(question: str) -> str:
    return question.upper()


def _trace(question: str = "q") -> str:
    answer(question)
    return mlflow.get_last_active_trace_id()


def _listed(experiment: str, **kwargs: object) -> list[str]:
    found = mlflow.search_traces(locations=[experiment], return_type="list", **kwargs)
    return [t.info.trace_id for t in found]


def test_tags_set_and_delete(experiment: str) -> None:
    trace_id = _trace()
    flush()
    client = MlflowClient()
    client.set_trace_tag(trace_id, "reviewed", "yes")
    assert mlflow.get_trace(trace_id).info.tags["reviewed"] == "yes"
    client.delete_trace_tag(trace_id, "reviewed")
    assert "reviewed" not in mlflow.get_trace(trace_id).info.tags
    with pytest.raises(mlflow.exceptions.MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        client.set_trace_tag("tr-" + "1" * 32, "k", "v")


def test_delete_by_ids_and_by_age(experiment: str) -> None:
    ids = []
    for i in range(4):
        ids.append(_trace(str(i)))
        flush()
    client = MlflowClient()
    assert client.delete_traces(experiment, trace_ids=[ids[3]]) == 1
    assert mlflow.get_trace(ids[3]) is None
    cutoff = max(mlflow.get_trace(i).info.request_time for i in ids[:3])
    # only the oldest one of those at or before the cut-off
    assert client.delete_traces(experiment, max_timestamp_millis=cutoff, max_traces=1) == 1
    left = _listed(experiment)
    assert len(left) == 2 and ids[3] not in left
    assert client.delete_traces(experiment, max_timestamp_millis=cutoff) == 2
    assert _listed(experiment) == []


def test_trace_in_a_run_and_linked_runs(experiment: str) -> None:
    with mlflow.start_run() as run:
        in_run = _trace("inside")
    outside = _trace("outside")
    flush()
    assert mlflow.get_trace(in_run).info.trace_metadata["mlflow.sourceRun"] == run.info.run_id
    found = mlflow.search_traces(run_id=run.info.run_id, return_type="list")
    assert [t.info.trace_id for t in found] == [in_run]
    with mlflow.start_run() as other:
        pass
    MlflowClient().link_traces_to_run([outside, in_run], other.info.run_id)
    assert set(_listed(experiment, run_id=other.info.run_id)) == {outside, in_run}


def test_active_model_is_recorded(experiment: str) -> None:
    model = mlflow.set_active_model(name="agent-v1")
    try:
        trace_id = _trace()
    finally:
        mlflow.clear_active_model()
    flush()
    assert mlflow.get_trace(trace_id).info.trace_metadata["mlflow.modelId"] == model.model_id


def test_assessments_lifecycle(experiment: str) -> None:
    trace_id = _trace()
    flush()
    human = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="ana@example.com")
    feedback = mlflow.log_feedback(
        trace_id=trace_id,
        name="helpful",
        value=True,
        source=human,
        rationale="clear",
        metadata={"round": "1"},
    )
    expectation = mlflow.log_expectation(
        trace_id=trace_id, name="expected", value={"answer": "Q"}, source=human
    )
    assert feedback.assessment_id.startswith("a-")
    got = mlflow.get_assessment(trace_id, feedback.assessment_id)
    assert (got.name, got.value, got.rationale) == ("helpful", True, "clear")
    assert got.source.source_id == "ana@example.com" and got.metadata == {"round": "1"}
    assert mlflow.get_assessment(trace_id, expectation.assessment_id).value == {"answer": "Q"}

    updated = mlflow.update_assessment(
        trace_id=trace_id,
        assessment_id=feedback.assessment_id,
        assessment=mlflow.entities.Feedback(name="helpful", value=False, rationale="vague"),
    )
    assert (updated.value, updated.rationale) == (False, "vague")

    override = mlflow.override_feedback(
        trace_id=trace_id, assessment_id=feedback.assessment_id, value=True, rationale="fixed"
    )
    on_trace = {a.assessment_id: a for a in mlflow.get_trace(trace_id).info.assessments}
    assert on_trace[feedback.assessment_id].valid is False
    assert on_trace[override.assessment_id].overrides == feedback.assessment_id
    assert on_trace[override.assessment_id].value is True

    mlflow.delete_assessment(trace_id=trace_id, assessment_id=override.assessment_id)
    on_trace = {a.assessment_id: a for a in mlflow.get_trace(trace_id).info.assessments}
    assert override.assessment_id not in on_trace
    assert on_trace[feedback.assessment_id].valid is True
    searched = mlflow.search_traces(locations=[experiment], return_type="list")
    assert {a.name for a in searched[0].info.assessments} == {"helpful", "expected"}
    with pytest.raises(mlflow.exceptions.MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        mlflow.get_assessment(trace_id, "a-" + "0" * 32)
