"""The access-control store on every backend: users, tokens, grants and their cascades."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.auth import tokens
from service.auth.tokens import token_hash
from service.errors import (
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    StratusError,
)
from service.store import Store
from service.store.auth import AuthStore, Visible, normalize_principal, normalize_username
from service.store.entities.auth import ResourceKind
from service.store.entities.tracking import ViewType

EXPERIMENT, MODEL = ResourceKind.EXPERIMENT, ResourceKind.REGISTERED_MODEL


@pytest.fixture
def stores(migrated_database) -> tuple[Store, AuthStore]:
    return Store.over(migrated_database), AuthStore(migrated_database)


def test_users(stores: tuple[Store, AuthStore], unique: str) -> None:
    _, auth = stores
    created = auth.create_user(f"u-{unique}@x.com", "scrypt$hash", is_admin=True)
    assert created.is_admin and created.has_password
    with pytest.raises(ResourceAlreadyExists):
        auth.create_user(f"u-{unique}@x.com")
    auth.set_admin(created.username, False)
    auth.set_password(created.username, "scrypt$other")
    assert auth.password_hash(created.username) == "scrypt$other"
    assert not auth.get_user(created.username).is_admin
    assert created.username in {u.username for u in auth.list_users()}
    assert auth.find_user(f"nobody-{unique}") is None
    with pytest.raises(ResourceDoesNotExist):
        auth.set_admin(f"nobody-{unique}", True)


def test_tokens(stores: tuple[Store, AuthStore], unique: str) -> None:
    _, auth = stores
    issued = tokens.issue(auth, f"t-{unique}", "ci", days=1)
    found = auth.token_by_hash(token_hash(issued.secret))
    assert found == issued.record and found.name == "ci"
    assert auth.token_by_hash(token_hash(issued.secret + "x")) is None
    revoked = auth.revoke_token(issued.record.token_id)
    assert revoked.revoked_time is not None
    assert auth.revoke_token(issued.record.token_id).revoked_time == revoked.revoked_time
    assert [t.token_id for t in auth.list_tokens(f"t-{unique}")] == [issued.record.token_id]
    with pytest.raises(ResourceDoesNotExist):
        auth.revoke_token("no-such-token")
    with pytest.raises(InvalidParameterValue):
        tokens.issue(auth, f"t-{unique}", "forever", days=10_000)


def test_grants_follow_their_resources(stores: tuple[Store, AuthStore], unique: str) -> None:
    store, auth = stores
    experiment = str(store.experiments.create(f"grants-{unique}"))
    model = f"grants-model-{unique}"
    store.registered_models.create(model)
    auth.create_grant(EXPERIMENT, experiment, "alice", "READ")
    auth.create_grant(MODEL, model, "group:vision", "EDIT")
    with pytest.raises(ResourceAlreadyExists):
        auth.create_grant(EXPERIMENT, experiment, "alice", "EDIT")
    with pytest.raises(ResourceDoesNotExist):
        auth.create_grant(EXPERIMENT, "987654321", "alice", "READ")
    with pytest.raises(ResourceDoesNotExist):
        auth.create_grant(MODEL, f"missing-{unique}", "alice", "READ")
    auth.update_grant(EXPERIMENT, experiment, "alice", "EDIT")
    assert auth.get_grant(EXPERIMENT, experiment, "alice").permission == "EDIT"
    auth.put_grant(EXPERIMENT, experiment, "alice", "MANAGE")
    mine = {(g.kind, g.resource, g.permission) for g in auth.grants_for(["alice", "group:vision"])}
    assert (EXPERIMENT, experiment, "MANAGE") in mine and (MODEL, model, "EDIT") in mine

    renamed = f"renamed-{unique}"
    store.registered_models.rename(model, renamed)
    assert [g.principal for g in auth.grants_on(MODEL, renamed)] == ["group:vision"]
    assert auth.grants_on(MODEL, model) == []
    store.registered_models.delete(renamed)
    assert auth.grants_on(MODEL, renamed) == []

    auth.delete_grant(EXPERIMENT, experiment, "alice")
    with pytest.raises(ResourceDoesNotExist):
        auth.delete_grant(EXPERIMENT, experiment, "alice")


def test_grants_go_when_an_experiment_is_purged(
    stores: tuple[Store, AuthStore], unique: str
) -> None:
    store, auth = stores
    experiment = store.experiments.create(f"purged-{unique}")
    auth.create_grant(EXPERIMENT, str(experiment), "bob", "READ")
    with store.db.write() as conn:  # what `stratus gc` does to a deleted experiment
        conn.execute(
            sa.text("DELETE FROM experiments WHERE experiment_id = :id"), {"id": experiment}
        )
    assert auth.grants_on(EXPERIMENT, str(experiment)) == []


def test_deleting_a_user_takes_their_tokens_and_grants(
    stores: tuple[Store, AuthStore], unique: str
) -> None:
    store, auth = stores
    username = f"leaver-{unique}"
    auth.create_user(username)
    experiment = str(store.experiments.create(f"leaver-exp-{unique}"))
    auth.create_grant(EXPERIMENT, experiment, username, "EDIT")
    auth.create_grant(EXPERIMENT, experiment, "group:vision", "READ")
    tokens.issue(auth, username, "laptop")
    auth.delete_user(username)
    assert auth.list_tokens(username) == []
    assert [g.principal for g in auth.grants_on(EXPERIMENT, experiment)] == ["group:vision"]


def test_search_filters(stores: tuple[Store, AuthStore], unique: str) -> None:
    store, _ = stores
    ids = [store.experiments.create(f"visible-{unique}-{i}") for i in range(4)]

    def search(visible: Visible | None) -> set[int]:
        page = store.experiments.search(
            view_type=ViewType.ACTIVE_ONLY,
            filter_string=f"name LIKE 'visible-{unique}-%'",
            order_by=[],
            max_results=100,
            page_token=None,
            visible=visible,
        )
        return {e.experiment_id for e in page.items}

    assert search(None) == set(ids)
    assert search(Visible(frozenset(ids[:2]), exclude=True)) == set(ids[2:])
    assert search(Visible(frozenset(ids[:1]), exclude=False)) == {ids[0]}
    assert search(Visible(frozenset(), exclude=False)) == set()


def test_names_are_normalized() -> None:
    assert normalize_username("  Alice@Example.COM ") == "alice@example.com"
    assert normalize_principal("group:Vision") == "group:vision"
    for bad in ("", "a b", "group:x", "x" * 300):
        with pytest.raises(InvalidParameterValue):
            normalize_username(bad)


def test_a_creation_and_its_creators_grant_are_one_transaction(
    stores: tuple[Store, AuthStore], backend: str, unique: str
) -> None:
    """If the creator's MANAGE cannot be written, nothing is created (issue #16, case 7)."""
    store, auth = stores
    experiment_id = store.experiments.create(f"made-{unique}", manager=f"u-{unique}@x.com")
    model = store.registered_models.create(f"made-{unique}", manager=f"u-{unique}@x.com")
    assert [g.permission for g in auth.grants_on(EXPERIMENT, str(experiment_id))] == ["MANAGE"]
    assert [g.permission for g in auth.grants_on(MODEL, model.name)] == ["MANAGE"]
    if backend == "sqlite":
        return  # SQLite does not enforce column lengths: nothing makes the grant fail
    too_long = "u" * 300
    with pytest.raises((sa.exc.SQLAlchemyError, StratusError)):
        store.experiments.create(f"failed-{unique}", manager=too_long)
    with pytest.raises((sa.exc.SQLAlchemyError, StratusError)):
        store.registered_models.create(f"failed-{unique}", manager=too_long)
    assert auth.experiment_id_by_name(f"failed-{unique}") is None
    with pytest.raises(ResourceDoesNotExist):
        store.registered_models.get(f"failed-{unique}")
