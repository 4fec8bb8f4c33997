"""What the trace store takes and returns: traces, spans and assessments, shaped for the wire
by ``service.http.wire.traces``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Trace states, as MLflow names them.
TRACE_STATES = ("STATE_UNSPECIFIED", "OK", "ERROR", "IN_PROGRESS")

#: Tags the server sets on every trace it answers for.
ARTIFACT_LOCATION_TAG = "mlflow.artifactLocation"
SPANS_LOCATION_TAG = "mlflow.trace.spansLocation"
#: The ``SPANS_LOCATION_TAG`` value telling the client the spans are in the tracking store,
#: so it reads them from ``traces/get`` and skips uploading ``traces.json``.
TRACKING_STORE = "TRACKING_STORE"


@dataclass(frozen=True, slots=True)
class TraceInfo:
    trace_id: str
    experiment_id: int
    request_time: int
    execution_duration: int | None
    state: str
    client_request_id: str | None = None
    request_preview: str | None = None
    response_preview: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    assessments: list[Assessment] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SpanRecord:
    """One span: the searchable columns and the span itself as proto3 JSON (``content``),
    or the artifact path that holds it (``content_ref``) when it is too large to inline."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    span_type: str
    status: str
    start_time_ns: int
    end_time_ns: int | None
    content: str | None
    content_ref: str | None = None
    #: (key, value) pairs for ``span.attributes.<key>`` search (values as text).
    attributes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class RootSummary:
    """What a root span says about its trace, for traces that arrive by OTLP alone."""

    request_time: int
    execution_duration: int | None
    state: str
    request_preview: str | None
    response_preview: str | None
    name: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """Feedback or an expectation. ``body`` holds the rest of MLflow's message as proto3
    JSON (source, span_id, feedback/expectation, rationale, metadata, error)."""

    assessment_id: str
    trace_id: str
    name: str
    kind: str
    valid: bool
    overrides: str | None
    create_time: int
    last_update_time: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TraceWithSpans:
    info: TraceInfo
    spans: list[SpanRecord]
