"""What a new model version points at, and what the caller needs on each of those things.

``model-versions/create`` reads from other entities and writes onto one:

* its ``source`` names a registered model version (``models:/<name>/<version>``,
  ``models:/<name>@<alias>``), a logged model (``models:/<model_id>``), a run
  (``runs:/<run_id>/...``) or a proxied artifact path (``mlflow-artifacts:/<experiment>/...``):
  the caller must be able to READ it, since the new version exposes its files and lineage;
* ``run_id`` and ``model_id`` name a run and a logged model: READ as well;
* the version is recorded in the logged model's ``mlflow.modelVersions`` tag: EDIT on the
  experiment of that logged model.

A source that does not exist gets the same refusal as one the caller may not read, so the
endpoint cannot be used to learn what exists. A deleted run may be named only by someone
who could restore it (MANAGE on its experiment): anyone else would pin its files against
``stratus gc``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

from service.auth.permissions import Caller, Permission
from service.errors import PermissionDenied
from service.store.auth import AuthStore
from service.store.entities.auth import ResourceKind

READ, EDIT, MANAGE = Permission.READ, Permission.EDIT, Permission.MANAGE


@dataclass(frozen=True)
class VersionOrigin:
    """The fields of a ``model-versions/create`` request that name other entities."""

    source: str
    run_id: str | None
    model_id: str | None


@dataclass(frozen=True)
class _Need:
    kind: ResourceKind
    resource: str | None
    """None: the thing named does not exist (refused like a forbidden one)."""
    level: Permission


def check_version_origin(store: AuthStore, caller: Caller, origin: VersionOrigin) -> None:
    """PermissionDenied unless ``caller`` may read every source and edit the linked model.

    Blocking (database lookups); admins are never asked.
    """
    for need in _needs(store, caller, origin):
        if need.resource is None or not caller.permission(need.kind, need.resource).allows(
            need.level
        ):
            raise PermissionDenied(
                f"Permission denied: the model version source '{origin.source}' (or its "
                "run or logged model) does not exist or you may not read it, or you may not "
                "edit the logged model it is recorded on."
            )


def _needs(store: AuthStore, caller: Caller, origin: VersionOrigin) -> Iterator[_Need]:
    parsed = urllib.parse.urlparse(origin.source)
    reference = urllib.parse.unquote(parsed.netloc + parsed.path).lstrip("/")
    run_ids = [origin.run_id] if origin.run_id else []
    linked_model = origin.model_id
    if parsed.scheme == "models":
        if "@" in reference:
            name, alias = reference.rsplit("@", 1)
            exists = store.alias_exists(name, alias)
            yield _Need(ResourceKind.REGISTERED_MODEL, name if exists else None, READ)
        elif "/" in reference:
            name, number = reference.split("/", 1)
            exists = number.isdecimal() and store.version_exists(name, int(number))
            yield _Need(ResourceKind.REGISTERED_MODEL, name if exists else None, READ)
        else:
            yield _logged_model(store, reference, READ)
            linked_model = linked_model or reference
    elif parsed.scheme == "runs":
        run_ids.append(reference.split("/", 1)[0])
    elif parsed.scheme == "mlflow-artifacts":
        head = reference.split("/", 1)[0]
        yield _Need(ResourceKind.EXPERIMENT, head if head.isdecimal() else None, READ)
    if origin.model_id:
        yield _logged_model(store, origin.model_id, READ)
    if linked_model:
        yield _logged_model(store, linked_model, EDIT)
    states = store.run_states(run_ids) if run_ids else {}
    for run_id in run_ids:
        state = states.get(run_id)
        if state is None:
            yield _Need(ResourceKind.EXPERIMENT, None, READ)
            continue
        experiment = str(state.experiment_id)
        yield _Need(ResourceKind.EXPERIMENT, experiment, MANAGE if state.deleted else READ)


def _logged_model(store: AuthStore, model_id: str, level: Permission) -> _Need:
    experiment = store.experiment_of_logged_model(model_id)
    return _Need(ResourceKind.EXPERIMENT, None if experiment is None else str(experiment), level)
