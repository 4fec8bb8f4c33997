"""``/api/2.0/mlflow/logged-models*`` (MLflow 3's LoggedModel API)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.http.context import blocking, store
from service.http.messages.logged_models import (
    CreateLoggedModel,
    FinalizeLoggedModel,
    LoggedModelParams,
    LoggedModelTags,
    SearchLoggedModels,
)
from service.http.parsing import (
    parse_json,
)
from service.http.responses import ok
from service.http.wire import tracking as wire
from service.store.search import DatasetFilter


async def create_logged_model(request: Request) -> Response:
    msg = await parse_json(request, CreateLoggedModel)
    model = await blocking(
        store(request).logged_models.create,
        experiment_id=msg.experiment_id,
        name=msg.name,
        model_type=msg.model_type,
        source_run_id=msg.source_run_id,
        params=[kv.entity() for kv in msg.params],
        tags=[kv.entity() for kv in msg.tags],
    )
    return ok({"model": wire.logged_model(model)})


async def get_logged_model(request: Request) -> Response:
    model = await blocking(store(request).logged_models.get, request.path_params["model_id"])
    return ok({"model": wire.logged_model(model)})


async def finalize_logged_model(request: Request) -> Response:
    msg = await parse_json(request, FinalizeLoggedModel)
    model = await blocking(
        store(request).logged_models.finalize, request.path_params["model_id"], msg.status
    )
    return ok({"model": wire.logged_model(model)})


async def delete_logged_model(request: Request) -> Response:
    await blocking(store(request).logged_models.delete, request.path_params["model_id"])
    return ok()


async def set_logged_model_tags(request: Request) -> Response:
    msg = await parse_json(request, LoggedModelTags)
    await blocking(
        store(request).logged_models.set_tags,
        request.path_params["model_id"],
        [kv.entity() for kv in msg.tags],
    )
    return ok()


async def delete_logged_model_tag(request: Request) -> Response:
    await blocking(
        store(request).logged_models.delete_tag,
        request.path_params["model_id"],
        request.path_params["tag_key"],
    )
    return ok()


async def log_logged_model_params(request: Request) -> Response:
    msg = await parse_json(request, LoggedModelParams)
    await blocking(
        store(request).logged_models.log_params,
        request.path_params["model_id"],
        [kv.entity() for kv in msg.params],
    )
    return ok()


async def search_logged_models(request: Request) -> Response:
    msg = await parse_json(request, SearchLoggedModels)
    page = await blocking(
        store(request).logged_models.search,
        experiment_ids=msg.experiment_ids,
        filter_string=msg.filter,
        order_by=msg.order_by,
        datasets=[DatasetFilter(d.dataset_name, d.dataset_digest) for d in msg.datasets],
        max_results=msg.max_results,
        page_token=msg.page_token,
    )
    return ok(
        {
            "models": [wire.logged_model(m) for m in page.items],
            "next_page_token": page.next_page_token,
        }
    )


routes = [
    Route("/logged-models", create_logged_model, methods=["POST"]),
    Route("/logged-models/search", search_logged_models, methods=["POST"]),
    Route("/logged-models/{model_id}", get_logged_model, methods=["GET"]),
    Route("/logged-models/{model_id}", finalize_logged_model, methods=["PATCH"]),
    Route("/logged-models/{model_id}", delete_logged_model, methods=["DELETE"]),
    Route("/logged-models/{model_id}/tags", set_logged_model_tags, methods=["PATCH"]),
    Route(
        "/logged-models/{model_id}/tags/{tag_key:path}", delete_logged_model_tag, methods=["DELETE"]
    ),
    Route("/logged-models/{model_id}/params", log_logged_model_params, methods=["POST"]),
]
