"""What every route requires: the one table the authorization layer enforces.

Each ``(method, path)`` the app serves has exactly one :class:`Rule`. ``/ajax-api/...``
paths share the rule of their ``/api/...`` twin. A route with no rule is admin-only (and
logged at start-up); tests/auth/test_route_sweep.py fails until it gets one.

Permissions follow MLflow's auth plugin: reading needs READ, changing needs EDIT,
deleting and restoring need MANAGE, and so does managing permissions. Creating an
experiment or a registered model needs only membership and makes the creator its
manager. Searches need membership; their handlers filter results to what the caller may
read (service/auth/filters.py), and run and logged-model searches check every experiment
they name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from service.auth.permissions import Caller, Permission
from service.auth.sources import VersionOrigin, check_version_origin
from service.http import unserved
from service.http.guard import locate
from service.http.messages.experiments import ExperimentRef, GetByName, SearchDatasets
from service.http.messages.logged_models import CreateLoggedModel, SearchLoggedModels
from service.http.messages.registry import CreateModelVersion, ModelName
from service.http.messages.runs import CreateRun, RunMessage, SearchRuns
from service.http.messages.traces import (
    EXPERIMENT_HEADER,
    BatchGet,
    DeleteTraces,
    GetTrace,
    LinkPrompts,
    LinkToRun,
    StartTrace,
)
from service.http.parsing import Message, Repeated, Text
from service.store.entities.auth import ResourceKind

if TYPE_CHECKING:
    from service.auth.access import Access

READ, EDIT, MANAGE = Permission.READ, Permission.EDIT, Permission.MANAGE
EXPERIMENT, MODEL = ResourceKind.EXPERIMENT, ResourceKind.REGISTERED_MODEL


class Gate(Enum):
    PUBLIC = "public"
    """No credentials: /health and the sign-in pages."""
    MEMBER = "member"
    """Any authenticated member of the team (handlers may check more)."""
    ADMIN = "admin"
    RESOURCE = "resource"
    """A permission on the experiments or registered models the request names."""


#: A further check on what the request names beyond its main resource: raises
#: PermissionDenied. Gets the caller with fresh grants.
Check = Callable[[locate.RequestView, "Access", Caller], Awaitable[None]]


@dataclass(frozen=True)
class Rule:
    gate: Gate
    kind: ResourceKind | None = None
    """For MEMBER rules: the kind of resource the handler filters by (searches)."""
    level: Permission | None = None
    locate: locate.Locator | None = None
    also: Check | None = None


PUBLIC = Rule(Gate.PUBLIC)
MEMBER = Rule(Gate.MEMBER)
ADMIN = Rule(Gate.ADMIN)
#: Membership only; the handler filters its results to what the caller may read.
SEARCH = MEMBER
#: The same for registered models, whose grants are always read fresh (see Access).
MODEL_SEARCH = Rule(Gate.MEMBER, ResourceKind.REGISTERED_MODEL)


def on_experiment(level: Permission, locator: locate.Locator) -> Rule:
    return Rule(Gate.RESOURCE, EXPERIMENT, level, locator)


def on_model(level: Permission, locator: locate.Locator, also: Check | None = None) -> Rule:
    return Rule(Gate.RESOURCE, MODEL, level, locator, also)


async def version_origin(view: locate.RequestView, access: Access, caller: Caller) -> None:
    """Every source of a new model version is readable, its logged model editable."""
    msg = await view.message(CreateModelVersion)
    origin = VersionOrigin(msg.source, msg.run_id or None, msg.model_id or None)
    await run_in_threadpool(check_version_origin, access.store, caller, origin)


class SampledHistoryRuns(Message):
    run_id: Repeated[Text] = []


class IntervalHistoryRuns(Message):
    run_ids: Repeated[Text] = []


# --- locators, one per way a request names its resource ---------------------------------

EXPERIMENT_ID = locate.experiment_field(ExperimentRef)
EXPERIMENT_NAME = locate.experiment_named(GetByName)
NEW_RUN = locate.experiment_field(CreateRun)
RUN = locate.run_field(RunMessage, lambda msg: [msg.run])
RUNS_SAMPLED = locate.run_field(SampledHistoryRuns, lambda msg: msg.run_id)
RUNS_INTERVAL = locate.run_field(IntervalHistoryRuns, lambda msg: msg.run_ids)
UPLOAD_RUN = locate.run_query("run_uuid")
SEARCHED_RUNS = locate.experiment_list(SearchRuns)
SEARCHED_DATASETS = locate.experiment_list(SearchDatasets)
NEW_LOGGED_MODEL = locate.experiment_field(CreateLoggedModel)
LOGGED_MODEL = locate.logged_model_path()
SEARCHED_LOGGED_MODELS = locate.experiment_list(SearchLoggedModels)
ARTIFACT = locate.artifact()
ARTIFACT_LISTING = locate.artifact(query="path")
MODEL_NAME = locate.model_field(ModelName)
NEW_TRACE = locate.experiment_value(
    StartTrace, lambda msg: msg.trace.trace_info.trace_location.experiment_id()
)
TRACE = locate.trace_path()
TRACE_QUERIED = locate.trace_field(GetTrace, lambda msg: [msg.trace_id])
TRACES_LISTED = locate.trace_field(BatchGet, lambda msg: msg.trace_ids)
TRACES_DELETED = locate.experiment_field(DeleteTraces)
TRACES_LINKED = locate.run_field(LinkToRun, lambda msg: [msg.run_id])
PROMPTS_LINKED = locate.trace_field(LinkPrompts, lambda msg: [msg.trace_id])
OTLP_EXPERIMENT = locate.experiment_header(EXPERIMENT_HEADER)

API = "/api/2.0/mlflow"
V3 = "/api/3.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
STRATUS = "/api/2.0/stratus"

#: Trace routes under ``/api/3.0/mlflow/traces`` (some also under 2.0, as MLflow has them).
#: A trace is its experiment's: READ reads, EDIT writes, MANAGE deletes.
TRACE_RULES: dict[tuple[str, str], Rule] = {
    ("POST", ""): on_experiment(EDIT, NEW_TRACE),
    ("POST", "/search"): SEARCH,
    ("GET", "/get"): on_experiment(READ, TRACE_QUERIED),
    ("GET", "/batchGet"): on_experiment(READ, TRACES_LISTED),
    ("POST", "/batchGetInfos"): on_experiment(READ, TRACES_LISTED),
    ("POST", "/delete-traces"): on_experiment(MANAGE, TRACES_DELETED),
    ("POST", "/link-to-run"): on_experiment(EDIT, TRACES_LINKED),
    ("POST", "/link-prompts"): on_experiment(EDIT, PROMPTS_LINKED),
    ("GET", "/{trace_id}"): on_experiment(READ, TRACE),
    ("PATCH", "/{trace_id}/tags"): on_experiment(EDIT, TRACE),
    ("DELETE", "/{trace_id}/tags"): on_experiment(EDIT, TRACE),
    ("POST", "/{trace_id}/assessments"): on_experiment(EDIT, TRACE),
    ("GET", "/{trace_id}/assessments/{assessment_id}"): on_experiment(READ, TRACE),
    ("PATCH", "/{trace_id}/assessments/{assessment_id}"): on_experiment(EDIT, TRACE),
    ("DELETE", "/{trace_id}/assessments/{assessment_id}"): on_experiment(EDIT, TRACE),
}

#: (method, path) -> rule, for every route. HEAD uses the GET rule.
RULES: dict[tuple[str, str], Rule] = {
    # --- probes, sign-in and the UI shell ---
    ("GET", "/health"): PUBLIC,
    ("GET", "/version"): MEMBER,
    ("GET", f"{V3}/server-info"): MEMBER,
    ("GET", "/auth/login"): PUBLIC,
    ("POST", "/auth/login"): PUBLIC,
    ("GET", "/auth/google"): PUBLIC,
    ("GET", "/auth/google/callback"): PUBLIC,
    ("POST", "/auth/logout"): PUBLIC,
    # The shell and its assets hold no data: public, so a deep link (its fragment never
    # reaches the server) loads the UI, which sends a visitor without a session to sign in
    # with the whole address as ``next``; the session endpoint says who is signed in.
    ("GET", "/"): PUBLIC,
    ("GET", "/static/{path}"): PUBLIC,
    ("GET", "/api/2.0/stratus/session"): PUBLIC,
    # --- experiments ---
    # Any member may create; the store makes the creator its manager in the same
    # transaction (service/auth/filters.py: creator).
    ("POST", f"{API}/experiments/create"): MEMBER,
    ("GET", f"{API}/experiments/get"): on_experiment(READ, EXPERIMENT_ID),
    ("GET", f"{API}/experiments/get-by-name"): on_experiment(READ, EXPERIMENT_NAME),
    ("GET", f"{API}/experiments/search"): SEARCH,
    ("POST", f"{API}/experiments/search"): SEARCH,
    ("POST", f"{API}/experiments/update"): on_experiment(EDIT, EXPERIMENT_ID),
    ("POST", f"{API}/experiments/set-experiment-tag"): on_experiment(EDIT, EXPERIMENT_ID),
    ("POST", f"{API}/experiments/delete-experiment-tag"): on_experiment(EDIT, EXPERIMENT_ID),
    ("POST", f"{API}/experiments/delete"): on_experiment(MANAGE, EXPERIMENT_ID),
    ("POST", f"{API}/experiments/restore"): on_experiment(MANAGE, EXPERIMENT_ID),
    ("POST", f"{API}/experiments/search-datasets"): on_experiment(READ, SEARCHED_DATASETS),
    # --- runs and metrics ---
    ("POST", f"{API}/runs/create"): on_experiment(EDIT, NEW_RUN),
    ("GET", f"{API}/runs/get"): on_experiment(READ, RUN),
    ("POST", f"{API}/runs/update"): on_experiment(EDIT, RUN),
    ("POST", f"{API}/runs/set-tag"): on_experiment(EDIT, RUN),
    ("POST", f"{API}/runs/delete-tag"): on_experiment(EDIT, RUN),
    ("POST", f"{API}/runs/log-parameter"): on_experiment(EDIT, RUN),
    ("POST", f"{API}/runs/log-metric"): on_experiment(EDIT, RUN),
    ("POST", f"{API}/runs/log-batch"): on_experiment(EDIT, RUN),
    ("POST", f"{API}/runs/log-inputs"): on_experiment(EDIT, RUN),
    ("POST", f"{API}/runs/outputs"): on_experiment(EDIT, RUN),
    ("POST", f"{API}/runs/log-model"): on_experiment(EDIT, RUN),
    ("POST", f"{API}/runs/delete"): on_experiment(MANAGE, RUN),
    ("POST", f"{API}/runs/restore"): on_experiment(MANAGE, RUN),
    ("POST", f"{API}/runs/search"): on_experiment(READ, SEARCHED_RUNS),
    ("GET", f"{API}/metrics/get-history"): on_experiment(READ, RUN),
    ("GET", "/api/2.0/stratus/metrics/history-sampled"): on_experiment(READ, RUNS_SAMPLED),
    ("GET", f"{API}/metrics/get-history-bulk"): on_experiment(READ, RUNS_SAMPLED),
    ("GET", f"{API}/metrics/get-history-bulk-interval"): on_experiment(READ, RUNS_INTERVAL),
    # The compare page's runs, by the same ``run_ids`` field.
    ("POST", "/api/2.0/stratus/runs/get"): on_experiment(READ, RUNS_INTERVAL),
    ("GET", "/api/2.0/stratus/experiments/run-keys"): on_experiment(READ, EXPERIMENT_ID),
    # --- artifacts addressed by their run, logged model or model version ---
    ("GET", f"{API}/artifacts/list"): on_experiment(READ, RUN),
    ("GET", "/get-artifact"): on_experiment(READ, RUN),
    ("POST", f"{API}/upload-artifact"): on_experiment(EDIT, UPLOAD_RUN),
    ("GET", f"{API}/logged-models/{{model_id}}/artifacts/directories"): on_experiment(
        READ, LOGGED_MODEL
    ),
    ("GET", f"{API}/logged-models/{{model_id}}/artifacts/files"): on_experiment(READ, LOGGED_MODEL),
    ("GET", "/model-versions/get-artifact"): on_model(READ, MODEL_NAME),
    # What the caller may do (their own permission only): any member may ask.
    ("GET", "/api/2.0/stratus/permission"): MEMBER,
    # --- logged models ---
    ("POST", f"{API}/logged-models"): on_experiment(EDIT, NEW_LOGGED_MODEL),
    ("POST", f"{API}/logged-models/search"): on_experiment(READ, SEARCHED_LOGGED_MODELS),
    ("GET", f"{API}/logged-models/{{model_id}}"): on_experiment(READ, LOGGED_MODEL),
    ("PATCH", f"{API}/logged-models/{{model_id}}"): on_experiment(EDIT, LOGGED_MODEL),
    ("DELETE", f"{API}/logged-models/{{model_id}}"): on_experiment(MANAGE, LOGGED_MODEL),
    ("PATCH", f"{API}/logged-models/{{model_id}}/tags"): on_experiment(EDIT, LOGGED_MODEL),
    ("DELETE", f"{API}/logged-models/{{model_id}}/tags/{{tag_key}}"): on_experiment(
        EDIT, LOGGED_MODEL
    ),
    ("POST", f"{API}/logged-models/{{model_id}}/params"): on_experiment(EDIT, LOGGED_MODEL),
    # --- proxied artifacts: <experiment_id>/... ---
    ("GET", ARTIFACTS): on_experiment(READ, ARTIFACT_LISTING),
    ("GET", f"{ARTIFACTS}/{{artifact_path}}"): on_experiment(READ, ARTIFACT),
    ("PUT", f"{ARTIFACTS}/{{artifact_path}}"): on_experiment(EDIT, ARTIFACT),
    ("DELETE", f"{ARTIFACTS}/{{artifact_path}}"): on_experiment(MANAGE, ARTIFACT),
    # --- registered models ---
    ("POST", f"{API}/registered-models/create"): MEMBER,
    ("GET", f"{API}/registered-models/get"): on_model(READ, MODEL_NAME),
    ("GET", f"{API}/registered-models/search"): MODEL_SEARCH,
    ("GET", f"{API}/registered-models/get-latest-versions"): on_model(READ, MODEL_NAME),
    ("POST", f"{API}/registered-models/get-latest-versions"): on_model(READ, MODEL_NAME),
    ("GET", f"{API}/registered-models/alias"): on_model(READ, MODEL_NAME),
    ("POST", f"{API}/registered-models/rename"): on_model(EDIT, MODEL_NAME),
    ("PATCH", f"{API}/registered-models/update"): on_model(EDIT, MODEL_NAME),
    ("POST", f"{API}/registered-models/set-tag"): on_model(EDIT, MODEL_NAME),
    ("DELETE", f"{API}/registered-models/delete-tag"): on_model(EDIT, MODEL_NAME),
    ("POST", f"{API}/registered-models/alias"): on_model(EDIT, MODEL_NAME),
    ("DELETE", f"{API}/registered-models/alias"): on_model(MANAGE, MODEL_NAME),
    ("DELETE", f"{API}/registered-models/delete"): on_model(MANAGE, MODEL_NAME),
    # --- model versions (permissions are their registered model's) ---
    ("POST", f"{API}/model-versions/create"): on_model(EDIT, MODEL_NAME, version_origin),
    ("GET", f"{API}/model-versions/get"): on_model(READ, MODEL_NAME),
    ("GET", f"{API}/model-versions/get-download-uri"): on_model(READ, MODEL_NAME),
    ("GET", f"{API}/model-versions/search"): MODEL_SEARCH,
    ("PATCH", f"{API}/model-versions/update"): on_model(EDIT, MODEL_NAME),
    ("POST", f"{API}/model-versions/transition-stage"): on_model(EDIT, MODEL_NAME),
    ("POST", f"{API}/model-versions/set-tag"): on_model(EDIT, MODEL_NAME),
    ("DELETE", f"{API}/model-versions/delete-tag"): on_model(MANAGE, MODEL_NAME),
    ("DELETE", f"{API}/model-versions/delete"): on_model(MANAGE, MODEL_NAME),
    # --- access control (service/http/auth.py) ---
    ("POST", f"{API}/users/create"): ADMIN,
    ("GET", f"{API}/users/list"): ADMIN,
    ("PATCH", f"{API}/users/update-admin"): ADMIN,
    ("DELETE", f"{API}/users/delete"): ADMIN,
    ("GET", f"{API}/users/current"): MEMBER,
    ("GET", f"{API}/users/get"): MEMBER,  # the handler allows yourself, or an admin
    ("PATCH", f"{API}/users/update-password"): MEMBER,  # likewise
    ("POST", f"{API}/experiments/permissions/create"): on_experiment(MANAGE, EXPERIMENT_ID),
    ("GET", f"{API}/experiments/permissions/get"): on_experiment(MANAGE, EXPERIMENT_ID),
    ("GET", f"{API}/experiments/permissions/list"): on_experiment(MANAGE, EXPERIMENT_ID),
    ("PATCH", f"{API}/experiments/permissions/update"): on_experiment(MANAGE, EXPERIMENT_ID),
    ("DELETE", f"{API}/experiments/permissions/delete"): on_experiment(MANAGE, EXPERIMENT_ID),
    ("POST", f"{API}/registered-models/permissions/create"): on_model(MANAGE, MODEL_NAME),
    ("GET", f"{API}/registered-models/permissions/get"): on_model(MANAGE, MODEL_NAME),
    ("GET", f"{API}/registered-models/permissions/list"): on_model(MANAGE, MODEL_NAME),
    ("PATCH", f"{API}/registered-models/permissions/update"): on_model(MANAGE, MODEL_NAME),
    ("DELETE", f"{API}/registered-models/permissions/delete"): on_model(MANAGE, MODEL_NAME),
    # MLflow 3's resource_type/resource_id API: the handler checks MANAGE on the resource.
    ("POST", f"{V3}/users/permissions/grant"): MEMBER,
    ("POST", f"{V3}/users/permissions/revoke"): MEMBER,
    ("GET", f"{V3}/users/permissions/get"): MEMBER,
    # Personal access tokens: your own, or anyone's for an admin (checked by the handler).
    ("POST", f"{STRATUS}/tokens/create"): MEMBER,
    ("GET", f"{STRATUS}/tokens/list"): MEMBER,
    ("POST", f"{STRATUS}/tokens/revoke"): MEMBER,
    # --- traces: a trace is its experiment's (READ reads, EDIT writes, MANAGE deletes) ---
    ("POST", "/v1/traces"): on_experiment(EDIT, OTLP_EXPERIMENT),
    **{(method, f"{V3}/traces{path}"): rule for (method, path), rule in TRACE_RULES.items()},
    **{
        (method, f"{API}/traces{path}"): TRACE_RULES[method, path]
        for method, path in [
            ("POST", "/delete-traces"),
            ("POST", "/link-to-run"),
            ("POST", "/link-prompts"),
            ("PATCH", "/{trace_id}/tags"),
            ("DELETE", "/{trace_id}/tags"),
        ]
    },
    # --- bulk import from another tracking server (stratus import) ---
    ("POST", f"{STRATUS}/import/experiments"): ADMIN,
    ("POST", f"{STRATUS}/import/runs"): ADMIN,
    ("POST", f"{STRATUS}/import/metrics"): ADMIN,
    ("POST", f"{STRATUS}/import/logged-models"): ADMIN,
    ("POST", f"{STRATUS}/import/logged-model-metrics"): ADMIN,
    ("POST", f"{STRATUS}/import/registered-models"): ADMIN,
    ("POST", f"{STRATUS}/import/model-versions"): ADMIN,
    ("POST", f"{STRATUS}/import/aliases"): ADMIN,
}


def canonical(path: str) -> str:
    """``/ajax-api/...`` shares the rule of ``/api/...``; path converters are dropped."""
    if path.startswith("/ajax-api/"):
        path = "/api/" + path[len("/ajax-api/") :]
    return _strip_converters(path)


def _strip_converters(path: str) -> str:
    parts = []
    for segment in path.split("/"):
        if segment.startswith("{") and ":" in segment:
            segment = segment.split(":", 1)[0] + "}"
        parts.append(segment)
    return "/".join(parts)


# Routes listed as unserved only answer ENDPOINT_NOT_FOUND (for every method): any member
# may learn that.
RULES.update(
    {
        (method, canonical(path)): MEMBER
        for _listed, path, _reason in unserved.entries()
        for method in unserved.METHODS
        if (method, canonical(path)) not in RULES
    }
)
