"""MLflow 3 trace endpoints (``/api/3.0/mlflow/traces/*``) and assessments.

Under ``/api/2.0/mlflow`` only what MLflow itself serves there for 3.x clients: trace
tags, delete-traces and the run and prompt links (the 2.x trace API is not served; the
3.x client never falls back to it, since the 3.0 endpoints exist). Literal paths
(``get``, ``batchGet``, ``search``...) come before ``{trace_id}``: a client that gets
"Trace with ID 'get' not found" decides the server lacks the endpoint.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.auth.filters import visible_experiments
from service.errors import InvalidParameterValue
from service.http.context import blocking, store
from service.http.messages.traces import (
    BODY_FIELDS,
    BatchGet,
    CreateAssessment,
    DeleteTraces,
    GetTrace,
    LinkPrompts,
    LinkToRun,
    SearchTraces,
    StartTrace,
    TagMessage,
    UpdateAssessment,
)
from service.http.parsing import parse_json, parse_query
from service.http.responses import ok
from service.http.wire import traces as trace_wire
from service.store.entities.traces import TraceWithSpans
from service.store.experiments import parse_experiment_id
from service.trace_payloads import span_contents

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
