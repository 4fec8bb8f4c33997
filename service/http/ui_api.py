"""JSON endpoints only the web UI uses, under ``/ajax-api/2.0/stratus``.

Everything else the UI shows comes from the public MLflow REST API; these endpoints
exist because a browser cannot afford what the API would send it (a 1M-point history).
"""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.auth.permissions import Caller, Permission
from service.errors import InvalidParameterValue, PermissionDenied, Unauthenticated
from service.http.context import blocking, store
from service.http.parsing import Int64, Message, Repeated, Text, parse_json, parse_query
from service.http.responses import ok
from service.http.wire import tracking as wire
from service.store.entities.auth import ResourceKind
from service.store.experiments import parse_experiment_id
from service.store.metrics_downsample import SampledSeries, XAxis, sample_histories
from service.store.run_keys import experiment_run_keys

MAX_RUNS_PER_REQUEST = 100
MAX_RUNS_FETCHED = 1000
MAX_KEYS = 5000
MIN_POINTS, MAX_POINTS = 10, 10_000


class SampledHistory(Message):
    run_id: Repeated[Text]
    metric_key: Text
    x_axis: Literal["step", "timestamp"] = "step"
    max_points: Int64 = 2000
    x_min: Int64 | None = None
    x_max: Int64 | None = None


def _series(series: SampledSeries) -> dict[str, object]:
    return {
        "run_id": series.run_id,
        "metric_key": series.key,
        "x": series.x,
        "y": series.y,
        "point_count": series.point_count,
        "downsampled": series.downsampled,
    }


async def sampled_history(request: Request) -> Response:
    """``GET metrics/history-sampled``: one metric of up to 100 runs, ready to plot."""
    msg = parse_query(request, SampledHistory)
    if not 1 <= len(msg.run_id) <= MAX_RUNS_PER_REQUEST:
        raise InvalidParameterValue(
            f"Between 1 and {MAX_RUNS_PER_REQUEST} values of 'run_id' are required."
        )
    if not MIN_POINTS <= msg.max_points <= MAX_POINTS:
        raise InvalidParameterValue(
            f"Invalid value {msg.max_points} for parameter 'max_points': it must be between "
            f"{MIN_POINTS} and {MAX_POINTS}."
        )
    series = await blocking(
        sample_histories,
        store(request).db,
        list(dict.fromkeys(msg.run_id)),
        msg.metric_key,
        x_axis=XAxis(msg.x_axis),
        max_points=msg.max_points,
        x_min=msg.x_min,
        x_max=msg.x_max,
    )
    return ok({"series": [_series(s) for s in series]})


class RunIds(Message):
    run_ids: Repeated[Text] = []


async def get_runs(request: Request) -> Response:
    """``POST runs/get``: up to 1,000 runs by id in one answer (the compare page), from any
    experiments; ids of runs that do not exist come back in ``missing``."""
    msg = await parse_json(request, RunIds)
    if not 1 <= len(msg.run_ids) <= MAX_RUNS_FETCHED:
        raise InvalidParameterValue(
            f"Between 1 and {MAX_RUNS_FETCHED} values of 'run_ids' are required."
        )
    found = await blocking(store(request).runs.get_many, msg.run_ids)
    present = {run.info.run_id for run in found}
    missing = [run_id for run_id in dict.fromkeys(msg.run_ids) if run_id not in present]
    return ok({"runs": [wire.run(run) for run in found], "missing": missing})


class RunKeysQuery(Message):
    experiment_id: Text
    contains: Text = ""
    max_results: Int64 = 1000


async def run_keys(request: Request) -> Response:
    """``GET experiments/run-keys``: the metric, param and (user) tag keys of an
    experiment's runs, sorted, up to ``max_results`` of each; ``truncated`` when more."""
    msg = parse_query(request, RunKeysQuery)
    if not 1 <= msg.max_results <= MAX_KEYS:
        raise InvalidParameterValue(
            f"Invalid value {msg.max_results} for parameter 'max_results': it must be between "
            f"1 and {MAX_KEYS}."
        )
    experiment_id = parse_experiment_id(msg.experiment_id)
    await blocking(store(request).experiments.get, experiment_id)  # 404 for no such experiment
    keys = await blocking(
        experiment_run_keys,
        store(request).db,
        experiment_id,
        contains=msg.contains or None,
        limit=msg.max_results,
    )
    return ok(
        {
            "metrics": keys.metrics,
            "params": keys.params,
            "tags": keys.tags,
            "truncated": keys.truncated,
        }
    )


class PermissionQuery(Message):
    experiment_id: Text = ""
    model_name: Text = ""


async def my_permission(request: Request) -> Response:
    """``GET permission``: what the caller may do to one experiment or registered model
    (READ, EDIT or MANAGE), so the UI shows only the controls that would succeed. With
    authentication off, anyone may do anything: MANAGE."""
    msg = parse_query(request, PermissionQuery)
    if bool(msg.experiment_id) == bool(msg.model_name):
        raise InvalidParameterValue("Exactly one of 'experiment_id' and 'model_name' is required.")
    caller: Caller | None = request.scope.get("state", {}).get("caller")
    if caller is None:
        return ok({"permission": Permission.MANAGE.name})
    if msg.experiment_id:
        key = str(parse_experiment_id(msg.experiment_id))
        found = caller.permission(ResourceKind.EXPERIMENT, key)
    else:
        found = caller.permission(ResourceKind.REGISTERED_MODEL, msg.model_name)
    return ok({"permission": found.name})


async def session(request: Request) -> Response:
    """``GET session``: whether the server requires sign-in, and who is signed in.

    Public, so the UI can ask before anything else (and send a visitor without a session
    to the sign-in page with the page they asked for); it reveals only the caller's own
    name. ``user`` is left out when auth is on and the request carries no valid credentials,
    or when the identity is not a member of the team.
    """
    access = getattr(request.app.state, "auth", None)
    if access is None:
        return ok({"auth_enabled": False, "user": None})
    try:
        caller = await access.authenticate(request.scope)
    except (Unauthenticated, PermissionDenied):
        return ok({"auth_enabled": True, "user": None})
    principal = caller.principal
    user = {"username": principal.username, "is_admin": principal.is_admin, "via": caller.via}
    return ok({"auth_enabled": True, "user": user})


routes = [
    Route("/session", session, methods=["GET"]),
    Route("/permission", my_permission, methods=["GET"]),
    Route("/metrics/history-sampled", sampled_history, methods=["GET"]),
    Route("/runs/get", get_runs, methods=["POST"]),
    Route("/experiments/run-keys", run_keys, methods=["GET"]),
]
