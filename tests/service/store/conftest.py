"""Stores over the session's migrated database, on every backend."""

from __future__ import annotations

import uuid

import pytest

from service.store import Store


@pytest.fixture(scope="module")
def store(migrated_database) -> Store:
    return Store.over(migrated_database)


@pytest.fixture
def run_id(store: Store) -> str:
    """A new active run in a new experiment."""
    experiment_id = store.experiments.create(f"store-{uuid.uuid4().hex[:10]}")
    run = store.runs.create(
        experiment_id=experiment_id, user_id="u", start_time=1, run_name=None, tags=[]
    )
    return run.info.run_id
