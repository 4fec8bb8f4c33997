"""``mlflow.genai.evaluate`` with code scorers: an evaluation run, traces, assessments."""

from __future__ import annotations

import mlflow
from mlflow.genai.scorers import scorer


@scorer
def exact(outputs: str, expectations: dict[str, str]) -> bool:
    return outputs == expectations["answer"]


@scorer
def length(outputs: str) -> int:
    return len(outputs)


def test_evaluate_with_code_scorers(experiment: str) -> None:
    data = [
        {"inputs": {"question": "2+2"}, "expectations": {"answer": "4"}},
        {"inputs": {"question": "3+3"}, "expectations": {"answer": "7"}},
    ]

    def predict(question: str) -> str:
        left, right = question.split("+")
        return str(int(left) + int(right))

    result = mlflow.genai.evaluate(data=data, predict_fn=predict, scorers=[exact, length])
    run = mlflow.get_run(result.run_id)
    assert run.info.experiment_id == experiment
    assert run.data.metrics["exact/mean"] == 0.5
    traces = mlflow.search_traces(locations=[experiment], run_id=result.run_id, return_type="list")
    assert len(traces) == 2
    by_question = {t.data.spans[0].inputs["question"]: t for t in traces}
    for question, expected in (("2+2", True), ("3+3", False)):
        values = {a.name: a.value for a in by_question[question].info.assessments}
        assert values["exact"] is expected
        assert values["length"] == 1
