"""``/api/2.0/mlflow/registered-models/*`` and ``/model-versions/*``: the model registry.

Reads are GET with query strings; writes are POST/PATCH/DELETE with JSON bodies (DELETE
included), as in MLflow's protos. Versions travel as strings (``"1"``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.auth.filters import created, creator, visible_models
from service.http.context import blocking, store
from service.http.messages.registry import (
    AliasRef,
    CreateModelVersion,
    CreateRegisteredModel,
    LatestVersions,
    ModelName,
    ModelTag,
    ModelTagKey,
    RenameRegisteredModel,
    Search,
    SetAlias,
    TransitionStage,
    UpdateDescription,
    UpdateVersion,
    VersionRef,
    VersionTag,
    VersionTagKey,
)
from service.http.parsing import (
    parse_json,
    parse_query,
)
from service.http.responses import ok
from service.http.wire.registry import model_version_json, registered_model_json
from service.store.entities.common import Page
from service.store.entities.registry import ModelVersion, RegisteredModel

T = TypeVar("T")


def _model(model: RegisteredModel) -> dict[str, Any]:
    return {"registered_model": registered_model_json(model)}


def _version(version: ModelVersion) -> dict[str, Any]:
    return {"model_version": model_version_json(version)}


async def _search(
    request: Request,
    search: Callable[..., Page[T]],
    field: str,
    shape: Callable[[T], dict[str, Any]],
) -> Response:
    """A registry search: the query string, the readable page, ``field`` and the next token."""
    msg = parse_query(request, Search)
    page = await blocking(
        search,
        filter_string=msg.filter,
        order_by=msg.order_by,
        max_results=msg.max_results,
        page_token=msg.page_token,
        visible=visible_models(request),
    )
    items = [shape(item) for item in page.items]
    return ok({field: items, "next_page_token": page.next_page_token})


# --- registered models -------------------------------------------------------------------


async def create_registered_model(request: Request) -> Response:
    msg = await parse_json(request, CreateRegisteredModel)
    tags = [kv.entity() for kv in msg.tags]
    model = await blocking(
        store(request).registered_models.create,
        msg.name,
        tags,
        msg.description,
        manager=creator(request),
    )
    created(request)
    return ok(_model(model))


async def get_registered_model(request: Request) -> Response:
    msg = parse_query(request, ModelName)
    return ok(_model(await blocking(store(request).registered_models.get, msg.name)))


async def rename_registered_model(request: Request) -> Response:
    msg = await parse_json(request, RenameRegisteredModel)
    model = await blocking(store(request).registered_models.rename, msg.name, msg.new_name or "")
    return ok(_model(model))


async def update_registered_model(request: Request) -> Response:
    msg = await parse_json(request, UpdateDescription)
    model = await blocking(store(request).registered_models.update, msg.name, msg.description)
    return ok(_model(model))


async def delete_registered_model(request: Request) -> Response:
    msg = await parse_json(request, ModelName)
    await blocking(store(request).registered_models.delete, msg.name)
    return ok()


async def search_registered_models(request: Request) -> Response:
    models = store(request).registered_models
    return await _search(request, models.search, "registered_models", registered_model_json)


async def get_latest_versions(request: Request) -> Response:
    if request.method == "GET":
        msg = parse_query(request, LatestVersions)
    else:
        msg = await parse_json(request, LatestVersions)
    found = await blocking(store(request).registered_models.latest_versions, msg.name, msg.stages)
    return ok({"model_versions": [model_version_json(v) for v in found]})


async def set_registered_model_tag(request: Request) -> Response:
    msg = await parse_json(request, ModelTag)
    await blocking(store(request).registered_models.set_tag, msg.name, msg.key, msg.value)
    return ok()


async def delete_registered_model_tag(request: Request) -> Response:
    msg = await parse_json(request, ModelTagKey)
    await blocking(store(request).registered_models.delete_tag, msg.name, msg.key)
    return ok()


async def set_alias(request: Request) -> Response:
    msg = await parse_json(request, SetAlias)
    await blocking(
        store(request).registered_models.set_alias,
        msg.name,
        msg.alias,
        msg.version,
    )
    return ok()


async def delete_alias(request: Request) -> Response:
    msg = await parse_json(request, AliasRef)
    await blocking(store(request).registered_models.delete_alias, msg.name, msg.alias)
    return ok()


async def get_version_by_alias(request: Request) -> Response:
    msg = parse_query(request, AliasRef)
    return ok(_version(await blocking(store(request).model_versions.by_alias, msg.name, msg.alias)))


# --- model versions ----------------------------------------------------------------------


async def create_model_version(request: Request) -> Response:
    msg = await parse_json(request, CreateModelVersion)
    version = await blocking(
        store(request).model_versions.create,
        name=msg.name,
        source=msg.source,
        run_id=msg.run_id,
        tags=[kv.entity() for kv in msg.tags],
        run_link=msg.run_link,
        description=msg.description,
        model_id=msg.model_id,
    )
    return ok(_version(version))


async def get_model_version(request: Request) -> Response:
    msg = parse_query(request, VersionRef)
    version = await blocking(store(request).model_versions.get, msg.name, msg.version)
    return ok(_version(version))


async def update_model_version(request: Request) -> Response:
    msg = await parse_json(request, UpdateVersion)
    version = await blocking(
        store(request).model_versions.update,
        msg.name,
        msg.version,
        msg.description,
    )
    return ok(_version(version))


async def transition_stage(request: Request) -> Response:
    msg = await parse_json(request, TransitionStage)
    version = await blocking(
        store(request).model_versions.transition_stage,
        msg.name,
        msg.version,
        msg.stage,
        msg.archive_existing_versions,
    )
    return ok(_version(version))


async def delete_model_version(request: Request) -> Response:
    msg = await parse_json(request, VersionRef)
    await blocking(store(request).model_versions.delete, msg.name, msg.version)
    return ok()


async def search_model_versions(request: Request) -> Response:
    versions = store(request).model_versions
    return await _search(request, versions.search, "model_versions", model_version_json)


async def get_download_uri(request: Request) -> Response:
    msg = parse_query(request, VersionRef)
    uri = await blocking(store(request).model_versions.download_uri, msg.name, msg.version)
    return ok({"artifact_uri": uri})


async def set_model_version_tag(request: Request) -> Response:
    msg = await parse_json(request, VersionTag)
    await blocking(
        store(request).model_versions.set_tag,
        msg.name,
        msg.version,
        msg.key,
        msg.value,
    )
    return ok()


async def delete_model_version_tag(request: Request) -> Response:
    msg = await parse_json(request, VersionTagKey)
    await blocking(store(request).model_versions.delete_tag, msg.name, msg.version, msg.key)
    return ok()


_RM = "/registered-models"
_MV = "/model-versions"

routes = [
    Route(f"{_RM}/create", create_registered_model, methods=["POST"]),
    Route(f"{_RM}/get", get_registered_model, methods=["GET"]),
    Route(f"{_RM}/rename", rename_registered_model, methods=["POST"]),
    Route(f"{_RM}/update", update_registered_model, methods=["PATCH"]),
    Route(f"{_RM}/delete", delete_registered_model, methods=["DELETE"]),
    Route(f"{_RM}/search", search_registered_models, methods=["GET"]),
    Route(f"{_RM}/get-latest-versions", get_latest_versions, methods=["GET", "POST"]),
    Route(f"{_RM}/set-tag", set_registered_model_tag, methods=["POST"]),
    Route(f"{_RM}/delete-tag", delete_registered_model_tag, methods=["DELETE"]),
    Route(f"{_RM}/alias", set_alias, methods=["POST"]),
    Route(f"{_RM}/alias", delete_alias, methods=["DELETE"]),
    Route(f"{_RM}/alias", get_version_by_alias, methods=["GET"]),
    Route(f"{_MV}/create", create_model_version, methods=["POST"]),
    Route(f"{_MV}/get", get_model_version, methods=["GET"]),
    Route(f"{_MV}/update", update_model_version, methods=["PATCH"]),
    Route(f"{_MV}/transition-stage", transition_stage, methods=["POST"]),
    Route(f"{_MV}/delete", delete_model_version, methods=["DELETE"]),
    Route(f"{_MV}/search", search_model_versions, methods=["GET"]),
    Route(f"{_MV}/get-download-uri", get_download_uri, methods=["GET"]),
    Route(f"{_MV}/set-tag", set_model_version_tag, methods=["POST"]),
    Route(f"{_MV}/delete-tag", delete_model_version_tag, methods=["DELETE"]),
]
