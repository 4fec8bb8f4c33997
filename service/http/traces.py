"""MLflow 3 trace endpoints (``/api/3.0/mlflow/traces/*``) and assessments.

Under ``/api/2.0/mlflow`` only what MLflow itself serves there for 3.x clients: trace
tags, delete-traces and the run and prompt links (the 2.x trace API is not served; the
3.x client never falls back to it, since the 3.0 endpoints exist). Literal paths
(``get``, ``batchGet``, ``search``...) come before ``{trace_id}``: a client that gets
"Trace with ID 'get' not found" decides the server lacks the endpoint.
"""

from __future__ import annotations

from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.auth.filters import visible_experiments
from service.errors import InvalidParameterValue
from service.http import trace_wire
from service.http.context import blocking, store
from service.http.parsing import Int64, Message, Repeated, Text, parse_json, parse_query
from service.http.responses import ok
from service.store.experiments import parse_experiment_id
from service.store.trace_entities import TraceInfo, TraceWithSpans
from service.trace_payloads import span_contents

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


# --- traces ----------------------------------------------------------------------------


async def start_trace(request: Request) -> Response:
    msg = await parse_json(request, StartTrace)
    info = await blocking(store(request).traces.start_trace, msg.trace.trace_info.entity())
    return ok({"trace": {"trace_info": trace_wire.trace_info(info)}})


async def get_trace_info(request: Request) -> Response:
    info = await blocking(store(request).traces.get_info, request.path_params["trace_id"])
    return ok({"trace": {"trace_info": trace_wire.trace_info(info)}})


async def batch_get_infos(request: Request) -> Response:
    msg = await parse_json(request, BatchGet)
    found = await _load(request, msg)
    return ok({"trace_infos": [trace_wire.trace_info(t.info) for t in found]})


async def get_trace(request: Request) -> Response:
    msg = parse_query(request, GetTrace)
    found = await _load(request, BatchGet(trace_ids=[msg.trace_id]))
    if not found:
        await blocking(store(request).traces.get_info, msg.trace_id)  # raises the 404
    return ok({"trace": (await _shaped(request, found))[0]})


async def batch_get(request: Request) -> Response:
    msg = parse_query(request, BatchGet)
    return ok({"traces": await _shaped(request, await _load(request, msg))})


async def search_traces(request: Request) -> Response:
    msg = await parse_json(request, SearchTraces)
    if not msg.locations:
        raise InvalidParameterValue("At least one trace location (experiment) is required.")
    page = await blocking(
        store(request).traces.search,
        [location.experiment_id() for location in msg.locations],
        filter_string=msg.filter,
        order_by=msg.order_by,
        max_results=msg.max_results,
        page_token=msg.page_token,
        visible=visible_experiments(request),
    )
    return ok(
        {
            "traces": [trace_wire.trace_info(info) for info in page.items],
            "next_page_token": page.next_page_token,
        }
    )


async def set_tag(request: Request) -> Response:
    msg = await parse_json(request, TagMessage)
    await blocking(
        store(request).traces.set_tag, request.path_params["trace_id"], msg.key, msg.value
    )
    return ok()


async def delete_tag(request: Request) -> Response:
    key = request.query_params.get("key")
    if key is None:
        key = (await parse_json(request, TagMessage)).key
    await blocking(store(request).traces.delete_tag, request.path_params["trace_id"], key)
    return ok()


async def delete_traces(request: Request) -> Response:
    msg = await parse_json(request, DeleteTraces)
    deleted = await blocking(
        store(request).traces.delete,
        parse_experiment_id(msg.experiment_id),
        trace_ids=msg.request_ids,
        max_timestamp_millis=msg.max_timestamp_millis,
        max_traces=msg.max_traces,
    )
    return ok({"traces_deleted": deleted})


async def link_to_run(request: Request) -> Response:
    msg = await parse_json(request, LinkToRun)
    await blocking(store(request).traces.link_to_run, msg.trace_ids, msg.run_id)
    return ok()


async def link_prompts(request: Request) -> Response:
    msg = await parse_json(request, LinkPrompts)
    refs = [(p.name, p.version) for p in msg.prompt_versions]
    await blocking(store(request).traces.link_prompts, msg.trace_id, refs)
    return ok()


async def _load(request: Request, msg: BatchGet) -> list[TraceWithSpans]:
    experiments = [parse_experiment_id(e) for e in msg.experiment_ids] or None
    return await blocking(store(request).traces.get_traces, msg.trace_ids, experiments)


async def _shaped(request: Request, found: list[TraceWithSpans]) -> list[dict[str, Any]]:
    artifacts = request.app.state.artifacts
    shaped = []
    for item in found:
        contents = await blocking(span_contents, artifacts, item.spans)
        shaped.append(trace_wire.trace(item.info, item.spans, contents))
    return shaped


# --- assessments ---------------------------------------------------------------------

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


async def create_assessment(request: Request) -> Response:
    msg = (await parse_json(request, CreateAssessment)).assessment
    created = await blocking(
        store(request).assessments.create,
        request.path_params["trace_id"],
        name=msg.assessment_name,
        kind=msg.kind(),
        body=msg.body(),
        overrides=msg.overrides,
        valid=msg.valid is not False,
    )
    return ok({"assessment": trace_wire.assessment(created)})


async def get_assessment(request: Request) -> Response:
    found = await blocking(
        store(request).assessments.get,
        request.path_params["trace_id"],
        request.path_params["assessment_id"],
    )
    return ok({"assessment": trace_wire.assessment(found)})


async def update_assessment(request: Request) -> Response:
    msg = await parse_json(request, UpdateAssessment)
    paths = msg.paths()
    unknown = set(paths) - {"assessment_name", *BODY_FIELDS}
    if unknown:
        raise InvalidParameterValue(f"Cannot update assessment fields: {sorted(unknown)}")
    new = msg.assessment
    kind = "feedback" if "feedback" in paths else "expectation" if "expectation" in paths else None
    updated = await blocking(
        store(request).assessments.update,
        request.path_params["trace_id"],
        request.path_params["assessment_id"],
        name=new.assessment_name if "assessment_name" in paths else None,
        kind=kind,
        changes=new.body(tuple(p for p in paths if p in BODY_FIELDS and p != "metadata")),
        metadata=(new.metadata or {}) if "metadata" in paths else None,
    )
    return ok({"assessment": trace_wire.assessment(updated)})


async def delete_assessment(request: Request) -> Response:
    await blocking(
        store(request).assessments.delete,
        request.path_params["trace_id"],
        request.path_params["assessment_id"],
    )
    return ok()


ASSESSMENT = "/traces/{trace_id}/assessments/{assessment_id}"

#: Served under ``/api/2.0/mlflow`` as well as 3.0, as by MLflow.
v2_routes = [
    Route("/traces/delete-traces", delete_traces, methods=["POST"]),
    Route("/traces/link-to-run", link_to_run, methods=["POST"]),
    Route("/traces/link-prompts", link_prompts, methods=["POST"]),
    Route("/traces/{trace_id}/tags", set_tag, methods=["PATCH"]),
    Route("/traces/{trace_id}/tags", delete_tag, methods=["DELETE"]),
]

routes = [
    Route("/traces", start_trace, methods=["POST"]),
    Route("/traces/search", search_traces, methods=["POST"]),
    Route("/traces/get", get_trace, methods=["GET"]),
    Route("/traces/batchGet", batch_get, methods=["GET"]),
    Route("/traces/batchGetInfos", batch_get_infos, methods=["POST"]),
    Route("/traces/delete-traces", delete_traces, methods=["POST"]),
    Route("/traces/link-to-run", link_to_run, methods=["POST"]),
    Route("/traces/link-prompts", link_prompts, methods=["POST"]),
    Route("/traces/{trace_id}", get_trace_info, methods=["GET"]),
    Route("/traces/{trace_id}/tags", set_tag, methods=["PATCH"]),
    Route("/traces/{trace_id}/tags", delete_tag, methods=["DELETE"]),
    Route("/traces/{trace_id}/assessments", create_assessment, methods=["POST"]),
    Route(ASSESSMENT, get_assessment, methods=["GET"]),
    Route(ASSESSMENT, update_assessment, methods=["PATCH"]),
    Route(ASSESSMENT, delete_assessment, methods=["DELETE"]),
]
