"""Traces for the UI, written as an LLM application would: ``@mlflow.trace`` functions,
nested ``mlflow.start_span`` blocks, ``mlflow.openai.autolog()`` against a small
OpenAI-compatible server on loopback (token usage), an exception, feedback and an
expectation, all through the real mlflow client."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from tests.support.fake_chat import chat_server

#: The chat server thinks this long, so the chat trace is the slowest by far even on a
#: busy machine (the latency order of the traces table relies on it).
CHAT_THINKING_SECONDS = 0.5


@dataclass
class SeededTraces:
    experiment_id: str
    experiment_name: str
    run_id: str
    chat_trace_id: str
    error_trace_id: str
    big_trace_id: str


def flush() -> None:
    """Wait until the client has sent every finished trace (it exports in the background)."""
    import mlflow

    mlflow.flush_trace_async_logging(terminate=False)


def seed_traces(tracking_uri: str, suffix: str, *, text: str = "") -> SeededTraces:
    """An experiment with a chat trace (inside a run, with feedback and an expectation),
    a failed trace and a trace with a 300 KB input. ``text`` is put in every free-text
    place (span names, attributes, inputs, outputs, tags, assessment values)."""
    import mlflow
    import openai
    from mlflow.entities import AssessmentSource, AssessmentSourceType

    mlflow.set_tracking_uri(tracking_uri)
    name = f"chat-agent-{suffix}{text and ' ' + text}"
    experiment_id = mlflow.create_experiment(name)
    mlflow.set_experiment(experiment_id=experiment_id)

    @mlflow.trace(name=f"answer{text}", span_type="AGENT")
    def answer(llm: openai.OpenAI, question: str) -> str:
        mlflow.update_current_trace(
            tags={"env": "staging", "note": f"tag {text}"},
            metadata={"app_version": f"1.4{text}"},
        )
        with mlflow.start_span(name=f"retrieve{text}", span_type="RETRIEVER") as span:
            span.set_inputs({"query": question})
            span.set_attributes({"top_k": 3, "index": f"docs-v2{text}"})
            documents = [f"doc {i}: {text}" for i in range(3)]
            span.set_outputs({"documents": documents})
        reply = llm.chat.completions.create(
            model="tiny-model", messages=[{"role": "user", "content": f"{question}{text}"}]
        )
        return reply.choices[0].message.content or ""

    @mlflow.trace(name="failing-tool", span_type="TOOL")
    def failing(question: str) -> str:
        with mlflow.start_span(name="parse", span_type="PARSER"):
            raise ValueError(f"cannot parse {question}{text}")

    @mlflow.trace(name="summarize")
    def summarize(document: str) -> str:
        return document[:80]

    mlflow.openai.autolog()
    try:
        with (
            chat_server(CHAT_THINKING_SECONDS) as base_url,
            mlflow.start_run(run_name="agent-eval") as run,
        ):
            llm = openai.OpenAI(base_url=base_url, api_key="test-key")
            answer(llm, "What is the refund policy?")
            chat_trace_id = mlflow.get_last_active_trace_id()
    finally:
        mlflow.openai.autolog(disable=True)
    with suppress(ValueError):
        failing("12 apples")
    error_trace_id = mlflow.get_last_active_trace_id()
    summarize("x" * 300_000 + text)
    big_trace_id = mlflow.get_last_active_trace_id()
    flush()

    mlflow.log_feedback(
        trace_id=chat_trace_id,
        name="helpful",
        value=True,
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id=f"ana{text}"),
        rationale=f"Cites the policy {text}",
    )
    mlflow.log_expectation(
        trace_id=chat_trace_id,
        name="expected_answer",
        value=f"Refunds within 30 days {text}",
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="ben"),
    )
    return SeededTraces(
        experiment_id=experiment_id,
        experiment_name=name,
        run_id=run.info.run_id,
        chat_trace_id=chat_trace_id,
        error_trace_id=error_trace_id,
        big_trace_id=big_trace_id,
    )


def seed_many_traces(tracking_uri: str, suffix: str, count: int) -> str:
    """An experiment with ``count`` one-span traces, ``step-0`` … (for paging)."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    experiment_id = mlflow.create_experiment(f"many-traces-{suffix}")
    mlflow.set_experiment(experiment_id=experiment_id)
    for i in range(count):
        with mlflow.start_span(name=f"step-{i}") as span:
            span.set_inputs({"i": i})
    flush()
    return experiment_id


def seed_wide_trace(tracking_uri: str, suffix: str, spans: int, stages: int = 4) -> str:
    """A trace of ``spans`` spans: a root, ``stages`` stages, the rest spread under them
    (with 1,000 spans and 4 stages, about 250 children each: more than one chunk)."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    experiment_id = mlflow.create_experiment(f"wide-trace-{suffix}")
    mlflow.set_experiment(experiment_id=experiment_id)
    steps = spans - 1 - stages
    with mlflow.start_span(name="pipeline", span_type="CHAIN"):
        for stage in range(stages):
            with mlflow.start_span(name=f"stage-{stage}"):
                for step in range(steps // stages + (1 if stage < steps % stages else 0)):
                    with mlflow.start_span(name=f"stage-{stage}-step-{step}") as span:
                        span.set_inputs({"payload": "y" * 2_000})
                        span.set_attributes({"step": step})
    trace_id = mlflow.get_last_active_trace_id()
    flush()
    return trace_id
