"""``/api/2.0/mlflow/runs/*`` and ``metrics/get-history``."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from service.http.context import blocking, store
from service.http.messages.runs import (
    CreateRun,
    DeleteTag,
    GetMetricHistory,
    LogBatch,
    LogInputs,
    LogMetric,
    LogModel,
    LogOutputs,
    LogParam,
    RunMessage,
    SearchRuns,
    SetTag,
    UpdateRun,
)
from service.http.metric_points import plain_points
from service.http.parsing import (
    parse_json,
    parse_query,
    read_json,
    validate,
)
from service.http.responses import ok
from service.http.wire import tracking as wire
from service.store.entities.common import KeyValue
from service.store.entities.tracking import ModelOutput, ViewType


async def create_run(request: Request) -> Response:
    msg = await parse_json(request, CreateRun)
    run = await blocking(
        store(request).runs.create,
        experiment_id=msg.experiment_id,
        user_id=msg.user_id,
        start_time=msg.start_time,
        run_name=msg.run_name,
        tags=[kv.entity() for kv in msg.tags],
    )
    return ok({"run": wire.run(run)})


async def get_run(request: Request) -> Response:
    msg = parse_query(request, RunMessage)
    return ok({"run": wire.run(await blocking(store(request).runs.get, msg.run))})


async def update_run(request: Request) -> Response:
    msg = await parse_json(request, UpdateRun)
    info = await blocking(
        store(request).runs.update,
        msg.run,
        status=msg.status,
        end_time=msg.end_time,
        run_name=msg.run_name,
    )
    return ok({"run_info": wire.run_info(info)})


async def delete_run(request: Request) -> Response:
    msg = await parse_json(request, RunMessage)
    await blocking(store(request).runs.delete, msg.run)
    return ok()


async def restore_run(request: Request) -> Response:
    msg = await parse_json(request, RunMessage)
    await blocking(store(request).runs.restore, msg.run)
    return ok()


async def set_tag(request: Request) -> Response:
    msg = await parse_json(request, SetTag)
    await blocking(store(request).runs.set_tag, msg.run, msg.key, msg.value)
    return ok()


async def delete_tag(request: Request) -> Response:
    msg = await parse_json(request, DeleteTag)
    await blocking(store(request).runs.delete_tag, msg.run, msg.key)
    return ok()


async def log_param(request: Request) -> Response:
    msg = await parse_json(request, LogParam)
    await blocking(store(request).runs.log_batch, msg.run, params=[KeyValue(msg.key, msg.value)])
    return ok()


async def log_metric(request: Request) -> Response:
    msg = await parse_json(request, LogMetric)
    await blocking(store(request).runs.log_batch, msg.run, metrics=[msg.logged()])
    return ok()


async def log_batch(request: Request) -> Response:
    data = await read_json(request)
    points = plain_points(data.get("metrics", []))
    if points is None:  # not all plain: the messages read them, and word any error
        msg = validate(LogBatch, data)
        points = [m.logged() for m in msg.metrics]
    else:
        msg = validate(LogBatch, {**data, "metrics": []})
    await blocking(
        store(request).runs.log_batch,
        msg.run,
        metrics=points,
        params=[kv.entity() for kv in msg.params],
        tags=[kv.entity() for kv in msg.tags],
    )
    return ok()


async def log_inputs(request: Request) -> Response:
    msg = await parse_json(request, LogInputs)
    datasets = [d.entity() for d in msg.datasets]
    await blocking(
        store(request).runs.log_inputs, msg.run, datasets, [m.model_id for m in msg.models]
    )
    return ok()


async def log_outputs(request: Request) -> Response:
    msg = await parse_json(request, LogOutputs)
    outputs = [ModelOutput(m.model_id, m.step) for m in msg.models]
    await blocking(store(request).runs.log_outputs, msg.run, outputs)
    return ok()


async def log_model(request: Request) -> Response:
    msg = await parse_json(request, LogModel)
    await blocking(store(request).runs.record_model, msg.run, msg.summary())
    return ok()


async def search_runs(request: Request) -> Response:
    msg = await parse_json(request, SearchRuns)
    page = await blocking(
        store(request).runs.search,
        experiment_ids=msg.experiment_ids,
        filter_string=msg.filter,
        view_type=ViewType(msg.run_view_type),
        max_results=msg.max_results,
        order_by=msg.order_by,
        page_token=msg.page_token,
    )
    return ok({"runs": [wire.run(r) for r in page.items], "next_page_token": page.next_page_token})


async def get_metric_history(request: Request) -> Response:
    msg = parse_query(request, GetMetricHistory)
    if msg.max_results is None and msg.page_token is None:
        return await _stream_history(request, msg)
    page = await blocking(
        store(request).metrics.history,
        msg.run,
        msg.metric_key,
        max_results=msg.max_results,
        page_token=msg.page_token,
    )
    return ok(
        {
            "metrics": wire.metric_history(page.items),
            "next_page_token": page.next_page_token,
        }
    )


async def _stream_history(request: Request, msg: GetMetricHistory) -> Response:
    """The whole history in one answer, streamed chunk by chunk (flat memory at 1M points).

    The first chunk is read before the response starts, so an unknown run is still a 404.
    """
    chunks = store(request).metrics.history_chunks(msg.run, msg.metric_key)
    first = await blocking(next, chunks, None)
    if first is None:
        return ok({})

    def body() -> Iterator[bytes]:
        yield b'{"metrics":' + orjson.dumps(wire.metric_history(first))[:-1]
        for chunk in chunks:
            yield b"," + orjson.dumps(wire.metric_history(chunk))[1:-1]
        yield b"]}"

    return StreamingResponse(body(), media_type="application/json")


routes = [
    Route("/runs/create", create_run, methods=["POST"]),
    Route("/runs/get", get_run, methods=["GET"]),
    Route("/runs/update", update_run, methods=["POST"]),
    Route("/runs/delete", delete_run, methods=["POST"]),
    Route("/runs/restore", restore_run, methods=["POST"]),
    Route("/runs/set-tag", set_tag, methods=["POST"]),
    Route("/runs/delete-tag", delete_tag, methods=["POST"]),
    Route("/runs/log-parameter", log_param, methods=["POST"]),
    Route("/runs/log-metric", log_metric, methods=["POST"]),
    Route("/runs/log-batch", log_batch, methods=["POST"]),
    Route("/runs/log-inputs", log_inputs, methods=["POST"]),
    Route("/runs/outputs", log_outputs, methods=["POST"]),
    Route("/runs/log-model", log_model, methods=["POST"]),
    Route("/runs/search", search_runs, methods=["POST"]),
    Route("/metrics/get-history", get_metric_history, methods=["GET"]),
]
