"""Request messages of the trace and assessment endpoints, and the OTLP experiment header."""

from __future__ import annotations

from typing import Any, Literal

from service.errors import InvalidParameterValue
from service.http.parsing import Int64, Message, Repeated, Text
from service.http.wire import traces as trace_wire
from service.store.entities.traces import TraceInfo
from service.store.experiments import parse_experiment_id

#: The header naming the experiment OTLP spans are logged to.
EXPERIMENT_HEADER = "x-mlflow-experiment-id"

StateName = Literal["STATE_UNSPECIFIED", "OK", "ERROR", "IN_PROGRESS"]


class ExperimentLocation(Message):
    experiment_id: Text


class TraceLocation(Message):
    type: Text = "MLFLOW_EXPERIMENT"
    mlflow_experiment: ExperimentLocation | None = None

    def experiment_id(self) -> int:
        if self.mlflow_experiment is None:
            raise InvalidParameterValue(
                f"Trace location type {self.type} is not supported; use MLFLOW_EXPERIMENT."
            )
        return parse_experiment_id(self.mlflow_experiment.experiment_id)


class TraceInfoMessage(Message):
    trace_id: Text
    client_request_id: Text | None = None
    trace_location: TraceLocation
    request_preview: Text | None = None
    response_preview: Text | None = None
    request_time: Text
    execution_duration: Text | None = None
    state: StateName = "STATE_UNSPECIFIED"
    trace_metadata: dict[Text, Text] = {}
    tags: dict[Text, Text] = {}

    def entity(self) -> TraceInfo:
        duration = self.execution_duration
        return TraceInfo(
            trace_id=self.trace_id,
            experiment_id=self.trace_location.experiment_id(),
            request_time=trace_wire.parse_timestamp_ms(self.request_time, "request_time"),
            execution_duration=(
                trace_wire.parse_duration_ms(duration, "execution_duration") if duration else None
            ),
            state=self.state,
            client_request_id=self.client_request_id,
            request_preview=self.request_preview,
            response_preview=self.response_preview,
            tags=dict(self.tags),
            metadata=dict(self.trace_metadata),
        )


class TraceMessage(Message):
    trace_info: TraceInfoMessage


class StartTrace(Message):
    trace: TraceMessage


class GetTrace(Message):
    trace_id: Text


class BatchGet(Message):
    trace_ids: Repeated[Text] = []
    experiment_ids: Repeated[Text] = []


class SearchTraces(Message):
    locations: list[TraceLocation] = []
    filter: Text | None = None
    max_results: Int64 | None = None
    order_by: list[Text] = []
    page_token: Text | None = None


class TagMessage(Message):
    key: Text
    value: Text = ""


class DeleteTraces(Message):
    experiment_id: Text
    max_timestamp_millis: Int64 | None = None
    max_traces: Int64 | None = None
    request_ids: list[Text] = []


class LinkToRun(Message):
    trace_ids: list[Text] = []
    run_id: Text


class PromptRef(Message):
    name: Text
    version: Text


class LinkPrompts(Message):
    trace_id: Text
    prompt_versions: list[PromptRef] = []


#: The parts of an assessment kept as its body (the rest are columns).
BODY_FIELDS = ("source", "span_id", "feedback", "expectation", "rationale", "error", "metadata")


class AssessmentMessage(Message):
    assessment_name: Text = ""
    trace_id: Text | None = None
    span_id: Text | None = None
    source: dict[str, Any] | None = None
    feedback: dict[str, Any] | None = None
    expectation: dict[str, Any] | None = None
    rationale: Text | None = None
    error: dict[str, Any] | None = None
    metadata: dict[Text, Text] | None = None
    overrides: Text | None = None
    valid: bool | None = None

    def kind(self) -> str:
        if (self.feedback is None) == (self.expectation is None):
            raise InvalidParameterValue(
                "An assessment must have exactly one of feedback or expectation."
            )
        return "feedback" if self.feedback is not None else "expectation"

    def body(self, fields: tuple[str, ...] = BODY_FIELDS) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in fields}
        return {k: v for k, v in values.items() if v is not None}


class CreateAssessment(Message):
    assessment: AssessmentMessage


class UpdateAssessment(Message):
    assessment: AssessmentMessage
    update_mask: Text | dict[str, Any] = ""

    def paths(self) -> list[str]:
        """A FieldMask: ``"assessmentName,feedback"`` in proto3 JSON (or ``{"paths": []}``)."""
        mask = self.update_mask
        raw = mask.get("paths", []) if isinstance(mask, dict) else mask.split(",")
        return [_snake(str(path).strip()) for path in raw if str(path).strip()]


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
