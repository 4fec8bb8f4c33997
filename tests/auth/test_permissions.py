"""The permission matrix, through the real mlflow client.

Users x {experiment, registered model} x {READ, EDIT, MANAGE, NO_PERMISSIONS} x the
client calls each level should (and should not) allow. The admin builds one experiment
(with a run, a metric and an artifact) and one registered model (with a version and an
alias), and grants each user one level on both. Every operation is then tried as every
user: it must succeed exactly when the user's level reaches the one the operation needs,
and fail with PERMISSION_DENIED otherwise. The server's default permission is READ, so
"none" is an explicit NO_PERMISSIONS grant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.auth.conftest import ADMIN, DOMAIN, GROUP_MEMBER, MEMBERS, AuthServer

LEVELS = {"NO_PERMISSIONS": 0, "READ": 1, "EDIT": 2, "MANAGE": 3}
USERS = dict(zip(MEMBERS, ["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"], strict=True))


@dataclass
class World:
    """What the admin set up, and a way to make fresh things to delete."""

    server: AuthServer
    experiment_id: str
    experiment_name: str
    run_id: str
    model: str
    artifact_file: Path

    def admin(self) -> MlflowClient:
        return MlflowClient(self.server.url)

    def fresh_run(self) -> str:
        return self.admin().create_run(self.experiment_id).info.run_id

    def fresh_version(self) -> str:
        return self.admin().create_model_version(self.model, "s3://bucket/fresh").version


@pytest.fixture
def as_user(
    auth_server: AuthServer, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], MlflowClient]:
    """Switch the mlflow client's identity (MLFLOW_TRACKING_TOKEN) to a user."""

    def switch(email: str) -> MlflowClient:
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", auth_server.token(email))
        return MlflowClient(auth_server.url)

    return switch


@pytest.fixture
def world(
    auth_server: AuthServer,
    as_user: Callable[[str], MlflowClient],
    unique: str,
    tmp_path: Path,
) -> Iterator[World]:
    from mlflow.server.auth.client import AuthServiceClient

    admin = as_user(ADMIN)
    name = f"perm-{unique}"
    experiment_id = admin.create_experiment(name)
    run_id = admin.create_run(experiment_id).info.run_id
    admin.log_metric(run_id, "m", 1.0)
    artifact = tmp_path / "notes.txt"
    artifact.write_text("hello")
    admin.log_artifact(run_id, str(artifact))
    model = f"perm-model-{unique}"
    admin.create_registered_model(model)
    admin.create_model_version(model, "s3://bucket/m")
    admin.set_registered_model_alias(model, "champion", "1")
    grants = AuthServiceClient(auth_server.url)
    for email, level in USERS.items():
        grants.grant_user_permission(email, "experiment", experiment_id, level)
        grants.grant_user_permission(email, "registered_model", model, level)
    yield World(auth_server, experiment_id, name, run_id, model, artifact)


# --- the operations, by the level MLflow's auth plugin requires ------------------------

Operation = Callable[[MlflowClient, World], object]


def _grant_as(kind: str, resource: Callable[[World], str]) -> Operation:
    def grant(_client: MlflowClient, world: World) -> None:
        from mlflow.server.auth.client import AuthServiceClient

        AuthServiceClient(world.server.url).grant_user_permission(
            f"guest@{DOMAIN}", kind, resource(world), "READ"
        )

    return grant


EXPERIMENT_OPERATIONS: dict[str, tuple[str, Operation]] = {
    "get_experiment": ("READ", lambda c, w: c.get_experiment(w.experiment_id)),
    "get_experiment_by_name": ("READ", lambda c, w: c.get_experiment_by_name(w.experiment_name)),
    "search_runs": ("READ", lambda c, w: c.search_runs([w.experiment_id])),
    "get_run": ("READ", lambda c, w: c.get_run(w.run_id)),
    "get_metric_history": ("READ", lambda c, w: c.get_metric_history(w.run_id, "m")),
    "list_artifacts": ("READ", lambda c, w: c.list_artifacts(w.run_id)),
    "download_artifacts": ("READ", lambda c, w: c.download_artifacts(w.run_id, "notes.txt")),
    "create_run": ("EDIT", lambda c, w: c.create_run(w.experiment_id)),
    "log_metric": ("EDIT", lambda c, w: c.log_metric(w.run_id, "m", 2.0)),
    "log_batch": ("EDIT", lambda c, w: c.log_batch(w.run_id, tags=[_tag()])),
    "set_tag": ("EDIT", lambda c, w: c.set_tag(w.run_id, "t", "v")),
    "set_experiment_tag": ("EDIT", lambda c, w: c.set_experiment_tag(w.experiment_id, "t", "v")),
    "log_artifact": ("EDIT", lambda c, w: c.log_artifact(w.run_id, str(w.artifact_file), "x")),
    "delete_run": ("MANAGE", lambda c, w: c.delete_run(w.fresh_run())),
    "manage_permissions": ("MANAGE", _grant_as("experiment", lambda w: w.experiment_id)),
}

MODEL_OPERATIONS: dict[str, tuple[str, Operation]] = {
    "get_registered_model": ("READ", lambda c, w: c.get_registered_model(w.model)),
    "get_model_version": ("READ", lambda c, w: c.get_model_version(w.model, "1")),
    "get_by_alias": ("READ", lambda c, w: c.get_model_version_by_alias(w.model, "champion")),
    "get_download_uri": ("READ", lambda c, w: c.get_model_version_download_uri(w.model, "1")),
    "set_model_tag": ("EDIT", lambda c, w: c.set_registered_model_tag(w.model, "t", "v")),
    "update_description": ("EDIT", lambda c, w: c.update_registered_model(w.model, "d")),
    "create_model_version": ("EDIT", lambda c, w: c.create_model_version(w.model, "s3://b/n")),
    "set_alias": ("EDIT", lambda c, w: c.set_registered_model_alias(w.model, "staging", "1")),
    "delete_model_version": (
        "MANAGE",
        lambda c, w: c.delete_model_version(w.model, w.fresh_version()),
    ),
    "manage_permissions": ("MANAGE", _grant_as("registered_model", lambda w: w.model)),
}


def _tag():
    from mlflow.entities import RunTag

    return RunTag("batch", "v")


def _check(
    world: World,
    as_user: Callable[[str], MlflowClient],
    operations: dict[str, tuple[str, Operation]],
) -> None:
    failures = []
    for email, level in USERS.items():
        for name, (needed, operation) in operations.items():
            # Fresh runs/versions are made as the admin, before switching identity.
            as_user(ADMIN)
            bound = _bind(operation, world)
            client = as_user(email)
            allowed = LEVELS[level] >= LEVELS[needed]
            try:
                bound(client)
                outcome = "allowed"
            except (MlflowException, requests.HTTPError) as exc:
                # Artifact uploads surface the server's 403 as requests' HTTPError.
                outcome = "denied" if "PERMISSION_DENIED" in str(exc) else str(exc)
            expected = "allowed" if allowed else "denied"
            if outcome != expected:
                failures.append(f"{email} ({level}) {name} [{needed}]: {outcome}")
    assert failures == []


def _bind(operation: Operation, world: World) -> Callable[[MlflowClient], object]:
    """Run the admin-side preparation (fresh_run/fresh_version) eagerly, as the admin."""
    prepared = _Prepared(world)
    return lambda client: operation(client, prepared)


class _Prepared:
    """``world`` with fresh runs and versions made before the identity switch."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._run = world.fresh_run()
        self._version = world.fresh_version()

    def __getattr__(self, name: str) -> object:
        return getattr(self._world, name)

    def fresh_run(self) -> str:
        return self._run

    def fresh_version(self) -> str:
        return self._version


def test_experiment_permissions(world: World, as_user: Callable[[str], MlflowClient]) -> None:
    _check(world, as_user, EXPERIMENT_OPERATIONS)


def test_registered_model_permissions(world: World, as_user: Callable[[str], MlflowClient]) -> None:
    _check(world, as_user, MODEL_OPERATIONS)


def test_deleting_an_experiment_needs_manage(
    world: World, as_user: Callable[[str], MlflowClient]
) -> None:
    for email, level in USERS.items():
        if level != "MANAGE":
            with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
                as_user(email).delete_experiment(world.experiment_id)
    manager = next(e for e, level in USERS.items() if level == "MANAGE")
    as_user(manager).delete_experiment(world.experiment_id)
    as_user(manager).restore_experiment(world.experiment_id)


def test_search_shows_only_what_you_may_read(
    world: World, as_user: Callable[[str], MlflowClient]
) -> None:
    for email, level in USERS.items():
        client = as_user(email)
        experiments = {e.experiment_id for e in client.search_experiments(max_results=1000)}
        models = {m.name for m in client.search_registered_models(max_results=1000)}
        versions = client.search_model_versions(f"name = '{world.model}'")
        readable = level != "NO_PERMISSIONS"
        assert (world.experiment_id in experiments) is readable, email
        assert (world.model in models) is readable, email
        assert bool(versions) is readable, email
    hidden = as_user(MEMBERS[3])
    with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        hidden.search_runs([world.experiment_id, "0"])


def test_search_paging_is_exact_when_filtered(
    world: World, as_user: Callable[[str], MlflowClient], unique: str
) -> None:
    """Hidden experiments never make a page short: the filter is in the query."""
    admin = as_user(ADMIN)
    from mlflow.server.auth.client import AuthServiceClient

    ids = [admin.create_experiment(f"page-{unique}-{i}") for i in range(6)]
    for hidden in ids[::2]:
        AuthServiceClient(world.server.url).grant_user_permission(
            MEMBERS[0], "experiment", hidden, "NO_PERMISSIONS"
        )
    client = as_user(MEMBERS[0])
    seen, token = [], None
    while True:
        page = client.search_experiments(
            filter_string=f"name LIKE 'page-{unique}-%'", max_results=2, page_token=token
        )
        assert len(page) == 2 or not page.token
        seen += [e.experiment_id for e in page]
        token = page.token
        if not token:
            break
    assert sorted(seen) == sorted(ids[1::2])


def test_creators_manage_what_they_create(
    auth_server: AuthServer, as_user: Callable[[str], MlflowClient], unique: str
) -> None:
    creator = as_user(f"eve@{DOMAIN}")
    experiment_id = creator.create_experiment(f"own-{unique}")
    model = creator.create_registered_model(f"own-model-{unique}").name
    run_id = creator.create_run(experiment_id).info.run_id
    creator.create_model_version(model, "s3://bucket/own")
    other = as_user(MEMBERS[0])
    other.get_experiment(experiment_id)  # the default permission is READ
    with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        other.log_metric(run_id, "m", 1.0)
    creator = as_user(f"eve@{DOMAIN}")
    creator.delete_run(run_id)
    creator.delete_model_version(model, "1")
    creator.delete_registered_model(model)
    creator.delete_experiment(experiment_id)


def test_group_grants(world: World, as_user: Callable[[str], MlflowClient]) -> None:
    from mlflow.server.auth.client import AuthServiceClient

    as_user(ADMIN)
    AuthServiceClient(world.server.url).grant_user_permission(
        "group:vision", "experiment", world.experiment_id, "EDIT"
    )
    member = as_user(GROUP_MEMBER)
    member.log_metric(world.run_id, "group", 1.0)
    with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        member.delete_run(world.run_id)
    effective = AuthServiceClient(world.server.url).get_user_permission(
        GROUP_MEMBER, "experiment", world.experiment_id
    )
    assert (effective.permission, effective.allowed) == ("EDIT", True)


def test_basic_auth_users_through_the_client(
    world: World, admin, monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    username = f"runner-{unique}"
    admin.post(
        "/api/2.0/mlflow/users/create", json={"username": username, "password": "pw-12345678"}
    )
    admin.post(
        "/api/2.0/mlflow/experiments/permissions/create",
        json={"experiment_id": world.experiment_id, "username": username, "permission": "EDIT"},
    ).raise_for_status()
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", username)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "pw-12345678")
    client = MlflowClient(world.server.url)
    run = client.create_run(world.experiment_id)
    client.log_metric(run.info.run_id, "loss", 0.5)
    with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        client.delete_run(run.info.run_id)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong-password")
    with pytest.raises(MlflowException, match="UNAUTHENTICATED"):
        client.get_run(run.info.run_id)


def test_mlflow_auth_client_manages_users(
    auth_server: AuthServer, as_user: Callable[[str], MlflowClient], unique: str
) -> None:
    from mlflow.server.auth.client import AuthServiceClient

    as_user(ADMIN)
    users = AuthServiceClient(auth_server.url)
    created = users.create_user(f"Trainee-{unique}", "a-long-password")
    assert created.username == f"trainee-{unique}" and created.is_admin is False
    users.update_user_admin(created.username, True)
    assert users.get_user(created.username).is_admin is True
    users.update_user_password(created.username, "another-password")
    users.delete_user(created.username)
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        users.get_user(created.username)
    as_user(MEMBERS[0])
    with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        users.create_user(f"sneaky-{unique}", "a-long-password")
