"""``/api/2.0/mlflow/experiments/*``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.artifacts.paths import check_artifact_location
from service.auth.filters import created, creator, visible_experiments
from service.errors import InvalidParameterValue
from service.http.context import blocking, store
from service.http.messages.experiments import (
    CreateExperiment,
    DeleteExperimentTag,
    ExperimentRef,
    ExperimentTag,
    GetByName,
    SearchDatasets,
    SearchExperiments,
    UpdateExperiment,
)
from service.http.parsing import (
    parse_json,
    parse_query,
)
from service.http.responses import ok
from service.http.wire import tracking as wire
from service.http.wire.proto3 import compact
from service.store.entities.tracking import ViewType

#: MLflow's cap on the experiments one ``search-datasets`` may name.
MAX_DATASET_SEARCH_EXPERIMENTS = 20


async def create_experiment(request: Request) -> Response:
    msg = await parse_json(request, CreateExperiment)
    if msg.artifact_location:
        root = request.app.state.settings.resolved_artifact_root
        check_artifact_location(msg.artifact_location, root)
    tags = [kv.entity() for kv in msg.tags]
    experiment_id = await blocking(
        store(request).experiments.create,
        msg.name,
        msg.artifact_location,
        tags,
        manager=creator(request),
    )
    created(request)
    return ok({"experiment_id": str(experiment_id)})


async def get_experiment(request: Request) -> Response:
    msg = parse_query(request, ExperimentRef)
    experiment = await blocking(store(request).experiments.get, msg.experiment_id)
    return ok({"experiment": wire.experiment(experiment)})


async def get_experiment_by_name(request: Request) -> Response:
    msg = parse_query(request, GetByName)
    experiment = await blocking(store(request).experiments.get_by_name, msg.experiment_name)
    return ok({"experiment": wire.experiment(experiment)})


async def search_experiments(request: Request) -> Response:
    if request.method == "GET":
        msg = parse_query(request, SearchExperiments)
    else:
        msg = await parse_json(request, SearchExperiments)
    page = await blocking(
        store(request).experiments.search,
        view_type=ViewType(msg.view_type),
        filter_string=msg.filter,
        order_by=msg.order_by,
        max_results=msg.max_results,
        page_token=msg.page_token,
        visible=visible_experiments(request),
    )
    return ok(
        {
            "experiments": [wire.experiment(e) for e in page.items],
            "next_page_token": page.next_page_token,
        }
    )


async def update_experiment(request: Request) -> Response:
    msg = await parse_json(request, UpdateExperiment)
    await blocking(
        store(request).experiments.rename,
        msg.experiment_id,
        msg.new_name or "",
    )
    return ok()


async def delete_experiment(request: Request) -> Response:
    msg = await parse_json(request, ExperimentRef)
    await blocking(store(request).experiments.delete, msg.experiment_id)
    return ok()


async def restore_experiment(request: Request) -> Response:
    msg = await parse_json(request, ExperimentRef)
    await blocking(store(request).experiments.restore, msg.experiment_id)
    return ok()


async def set_experiment_tag(request: Request) -> Response:
    msg = await parse_json(request, ExperimentTag)
    await blocking(
        store(request).experiments.set_tag,
        msg.experiment_id,
        msg.key,
        msg.value,
    )
    return ok()


async def delete_experiment_tag(request: Request) -> Response:
    msg = await parse_json(request, DeleteExperimentTag)
    await blocking(store(request).experiments.delete_tag, msg.experiment_id, msg.key)
    return ok()


async def search_datasets(request: Request) -> Response:
    """``experiments/search-datasets``: the datasets the runs of up to 20 experiments used."""
    msg = await parse_json(request, SearchDatasets)
    if not msg.experiment_ids:
        raise InvalidParameterValue(
            "SearchDatasets request must specify at least one experiment_id."
        )
    if len(msg.experiment_ids) > MAX_DATASET_SEARCH_EXPERIMENTS:
        raise InvalidParameterValue(
            "SearchDatasets request cannot specify more than "
            f"{MAX_DATASET_SEARCH_EXPERIMENTS} experiment_ids. "
            f"Received {len(msg.experiment_ids)} experiment_ids."
        )
    summaries = await blocking(
        store(request).experiments.dataset_summaries,
        msg.experiment_ids,
    )
    return ok(
        {
            "dataset_summaries": [
                compact(
                    {
                        "experiment_id": str(experiment_id),
                        "name": name,
                        "digest": digest,
                        "context": context,
                    }
                )
                for experiment_id, name, digest, context in summaries
            ]
        }
    )


routes = [
    Route("/experiments/create", create_experiment, methods=["POST"]),
    Route("/experiments/get", get_experiment, methods=["GET"]),
    Route("/experiments/get-by-name", get_experiment_by_name, methods=["GET"]),
    Route("/experiments/search", search_experiments, methods=["GET", "POST"]),
    Route("/experiments/update", update_experiment, methods=["POST"]),
    Route("/experiments/delete", delete_experiment, methods=["POST"]),
    Route("/experiments/restore", restore_experiment, methods=["POST"]),
    Route("/experiments/set-experiment-tag", set_experiment_tag, methods=["POST"]),
    Route("/experiments/delete-experiment-tag", delete_experiment_tag, methods=["POST"]),
    Route("/experiments/search-datasets", search_datasets, methods=["POST"]),
]
