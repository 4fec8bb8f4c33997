"""The registry stores on every backend: numbering under concurrency, cascades, rules."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from service.store import Store
from service.store.entities.common import KeyValue


@pytest.fixture
def name() -> str:
    return f"model-{uuid.uuid4().hex[:10]}"


def _register(store: Store, name: str, source: str = "mlflow-artifacts:/0/x") -> int:
    return store.model_versions.create(name=name, source=source).version


def test_concurrent_registrations_get_distinct_numbers(store: Store, name: str) -> None:
    store.registered_models.create(name)
    workers = 8
    barrier = threading.Barrier(workers)

    def register(_: int) -> int:
        barrier.wait()
        return _register(store, name)

    with ThreadPoolExecutor(workers) as pool:
        numbers = list(pool.map(register, range(workers)))
    assert sorted(numbers) == list(range(1, workers + 1))
    listed = store.model_versions.search(
        filter_string=f"name = '{name}'", order_by=[], max_results=None, page_token=None
    )
    assert sorted(v.version for v in listed.items) == sorted(numbers)


def test_deleted_version_numbers_are_not_reused(store: Store, name: str) -> None:
    store.registered_models.create(name)
    assert [_register(store, name) for _ in range(2)] == [1, 2]
    store.model_versions.delete(name, 2)
    assert _register(store, name) == 3
    with pytest.raises(ResourceDoesNotExist, match="version=2"):
        store.model_versions.get(name, 2)


def test_rename_carries_versions_tags_and_aliases(store: Store, name: str) -> None:
    store.registered_models.create(name, [KeyValue("team", "vision")])
    _register(store, name)
    store.model_versions.set_tag(name, 1, "validated", "yes")
    store.registered_models.set_alias(name, "champion", 1)

    renamed = store.registered_models.rename(name, f"{name}-new")
    assert renamed.name == f"{name}-new"
    assert renamed.tags == [KeyValue("team", "vision")]
    assert [(a.alias, a.version) for a in renamed.aliases] == [("champion", 1)]
    version = store.model_versions.by_alias(f"{name}-new", "champion")
    assert (version.name, version.version, version.tags) == (
        f"{name}-new",
        1,
        [KeyValue("validated", "yes")],
    )
    assert _register(store, f"{name}-new") == 2  # the counter moved with the model
    with pytest.raises(ResourceDoesNotExist):
        store.registered_models.get(name)


def test_rename_onto_an_existing_name_is_refused(store: Store, name: str) -> None:
    store.registered_models.create(name)
    store.registered_models.create(f"{name}-other")
    with pytest.raises(ResourceAlreadyExists):
        store.registered_models.rename(name, f"{name}-other")
    assert store.registered_models.get(name).name == name


def test_delete_removes_versions_tags_and_aliases(store: Store, name: str) -> None:
    store.registered_models.create(name, [KeyValue("k", "v")])
    _register(store, name)
    store.model_versions.set_tag(name, 1, "k", "v")
    store.registered_models.set_alias(name, "prod", 1)
    store.registered_models.delete(name)

    with pytest.raises(ResourceDoesNotExist):
        store.model_versions.get(name, 1)
    store.registered_models.create(name)  # the name is free again, with nothing left behind
    assert _register(store, name) == 1
    fresh = store.model_versions.get(name, 1)
    assert fresh.tags == [] and fresh.aliases == []
    assert store.registered_models.get(name).tags == []


def test_latest_versions_are_per_stage(store: Store, name: str) -> None:
    store.registered_models.create(name)
    for _ in range(4):
        _register(store, name)
    store.model_versions.transition_stage(name, 1, "production", archive_existing_versions=False)
    store.model_versions.transition_stage(name, 2, "Staging", archive_existing_versions=False)

    latest = store.registered_models.get(name).latest_versions
    assert [(v.version, v.current_stage) for v in latest] == [
        (1, "Production"),
        (2, "Staging"),
        (4, "None"),
    ]
    staging = store.registered_models.latest_versions(name, ["staging"])
    assert [v.version for v in staging] == [2]

    store.model_versions.transition_stage(name, 3, "Staging", archive_existing_versions=True)
    stages = {
        v.version: v.current_stage
        for v in store.model_versions.search(
            filter_string=f"name = '{name}'", order_by=[], max_results=None, page_token=None
        ).items
    }
    assert stages == {1: "Production", 2: "Archived", 3: "Staging", 4: "None"}


def test_aliases_move_between_versions(store: Store, name: str) -> None:
    store.registered_models.create(name)
    _register(store, name)
    _register(store, name)
    store.registered_models.set_alias(name, "champion", 1)
    store.registered_models.set_alias(name, "champion", 2)
    assert store.model_versions.by_alias(name, "champion").version == 2
    assert store.model_versions.get(name, 1).aliases == []
    assert store.model_versions.by_alias(name, "latest").version == 2

    store.model_versions.delete(name, 2)
    with pytest.raises(InvalidParameterValue, match="alias champion not found"):
        store.model_versions.by_alias(name, "champion")


@pytest.mark.parametrize(
    ("alias", "message"),
    [("latest", "reserved"), ("v3", "reserved"), ("bad alias", "Invalid alias"), ("", "empty")],
)
def test_alias_rules(store: Store, name: str, alias: str, message: str) -> None:
    store.registered_models.create(name)
    _register(store, name)
    with pytest.raises(InvalidParameterValue, match=message):
        store.registered_models.set_alias(name, alias, 1)


@pytest.mark.parametrize("bad", ["a/b", "a:b", " ", "..", "./x", "x/"])
def test_model_name_rules(store: Store, bad: str) -> None:
    with pytest.raises(InvalidParameterValue):
        store.registered_models.create(bad)


@pytest.mark.parametrize(
    "source",
    ["/etc/passwd", "file:///etc/passwd", "mlflow-artifacts:/1/../../etc", "s3://b/%2e%2e/x", ""],
)
def test_local_or_escaping_sources_are_refused(store: Store, name: str, source: str) -> None:
    store.registered_models.create(name)
    with pytest.raises(InvalidParameterValue):
        store.model_versions.create(name=name, source=source)


def test_source_pointing_at_another_version(store: Store, name: str) -> None:
    store.registered_models.create(name)
    _register(store, name, "gs://bucket/models/a")
    store.registered_models.set_alias(name, "base", 1)
    store.registered_models.create(f"{name}-copy")
    for source in (f"models:/{name}/1", f"models:/{name}@base"):
        created = store.model_versions.create(name=f"{name}-copy", source=source)
        assert store.model_versions.download_uri(created.name, created.version) == (
            "gs://bucket/models/a"
        )
    with pytest.raises(InvalidParameterValue, match="Unable to fetch model"):
        store.model_versions.create(name=f"{name}-copy", source=f"models:/{name}/Production")
