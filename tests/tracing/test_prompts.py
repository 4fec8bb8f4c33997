"""Prompts ride on the model registry: register, load by version and alias, search, and
link to the traces that used them."""

from __future__ import annotations

import mlflow

from tests.tracing.conftest import flush


def test_prompt_registry(experiment: str, unique: str) -> None:
    name = f"qa-{unique}"
    first = mlflow.genai.register_prompt(
        name=name, template="Answer: {{question}}", commit_message="v1", tags={"team": "nlp"}
    )
    second = mlflow.genai.register_prompt(name=name, template="Briefly answer: {{question}}")
    assert (first.version, second.version) == (1, 2)
    loaded = mlflow.genai.load_prompt(f"prompts:/{name}/1")
    assert loaded.template == "Answer: {{question}}"
    assert loaded.format(question="why?") == "Answer: why?"
    assert loaded.commit_message == "v1"
    mlflow.genai.set_prompt_alias(name, alias="production", version=2)
    assert mlflow.genai.load_prompt(f"prompts:/{name}@production").version == 2
    found = mlflow.genai.search_prompts(filter_string=f"name = '{name}'")
    assert [p.name for p in found] == [name]

    @mlflow.trace
    def answer(question: str) -> str:
        prompt = mlflow.genai.load_prompt(f"prompts:/{name}@production")
        return prompt.format(question=question)

    assert answer("how?") == "Briefly answer: how?"
    trace_id = mlflow.get_last_active_trace_id()
    flush()
    linked = mlflow.get_trace(trace_id).info.tags.get("mlflow.linkedPrompts", "")
    assert name in linked
