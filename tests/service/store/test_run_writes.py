"""Run writes on every backend: tags, params and names, whichever statement shape the
database gets (PostgreSQL writes each of these in one statement; the others in a
transaction of several)."""

from __future__ import annotations

import uuid

import pytest

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store import Store
from service.store.entities.common import KeyValue

POINT = ("m", 1.0, 1, 0, None, None, None)


def tags(store: Store, run_id: str) -> dict[str, str]:
    return {tag.key: tag.value for tag in store.runs.get(run_id).tags}


def test_tags_overwrite_and_the_last_value_of_a_key_wins(store: Store, run_id: str) -> None:
    store.runs.set_tag(run_id, "t", "1")
    store.runs.set_tag(run_id, "t", "2")
    store.runs.log_batch(run_id, tags=[KeyValue("u", "a"), KeyValue("u", "b"), KeyValue("t", "3")])
    assert {k: v for k, v in tags(store, run_id).items() if k in "tu"} == {"t": "3", "u": "b"}


@pytest.mark.parametrize("how", ["set_tag", "log_batch"])
def test_the_name_tag_renames_the_run(store: Store, run_id: str, how: str) -> None:
    if how == "set_tag":
        store.runs.set_tag(run_id, "mlflow.runName", "renamed")
    else:
        store.runs.log_batch(run_id, metrics=[POINT], tags=[KeyValue("mlflow.runName", "renamed")])
    run = store.runs.get(run_id)
    assert run.info.run_name == "renamed"
    assert tags(store, run_id)["mlflow.runName"] == "renamed"


def test_params_with_tags_and_metrics_in_one_batch(store: Store, run_id: str) -> None:
    batch = {
        "metrics": [POINT, ("m", 2.0, 2, 1, None, None, None)],
        "params": [KeyValue("p", "1"), KeyValue("q", "x"), KeyValue("p", "1")],
        "tags": [KeyValue("t", "v")],
    }
    store.runs.log_batch(run_id, **batch)
    store.runs.log_batch(run_id, **batch)  # a retry: the same params are no change
    run = store.runs.get(run_id)
    assert run.params == [KeyValue("p", "1"), KeyValue("q", "x")]
    assert [(m.key, m.value) for m in run.metrics] == [("m", 2.0)]
    assert tags(store, run_id)["t"] == "v"
    with pytest.raises(InvalidParameterValue, match="Duplicate parameter keys"):
        store.runs.log_batch(run_id, params=[KeyValue("n", "1"), KeyValue("n", "2")])
    with pytest.raises(InvalidParameterValue, match="logged with value='x'"):
        store.runs.log_batch(run_id, params=[KeyValue("new", "1"), KeyValue("q", "y")])
    assert "new" not in {p.key for p in store.runs.get(run_id).params}


def test_writes_to_unknown_and_deleted_runs_are_refused(store: Store, run_id: str) -> None:
    unknown = "f" * 32
    with pytest.raises(ResourceDoesNotExist, match=f"Run with id={unknown} not found"):
        store.runs.set_tag(unknown, "t", "v")
    with pytest.raises(ResourceDoesNotExist, match=f"Run with id={unknown} not found"):
        store.runs.log_batch(unknown, params=[KeyValue("p", "1")], tags=[KeyValue("t", "v")])
    store.runs.delete(run_id)
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        store.runs.set_tag(run_id, "t", "v")
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        store.runs.log_batch(run_id, params=[KeyValue("p", "1")], metrics=[POINT])
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        store.runs.log_batch(run_id, tags=[KeyValue("t", "v")])
    store.runs.restore(run_id)
    run = store.runs.get(run_id)
    assert run.params == [] and run.metrics == [] and "t" not in tags(store, run_id)


def test_runs_of_unknown_and_deleted_experiments_are_refused(store: Store) -> None:
    def create(experiment_id: int) -> None:
        store.runs.create(
            experiment_id=experiment_id,
            user_id="u",
            start_time=1,
            run_name=None,
            tags=[KeyValue("t", "v")],
        )

    for missing in (2**31 - 2, 2**40, -1):
        with pytest.raises(ResourceDoesNotExist, match=f"No Experiment with id={missing}"):
            create(missing)
    experiment_id = store.experiments.create(f"run-writes-{uuid.uuid4().hex}")
    store.experiments.delete(experiment_id)
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        create(experiment_id)


def test_a_new_run_is_returned_as_stored(store: Store) -> None:
    experiment_id = store.experiments.create(f"run-writes-{uuid.uuid4().hex}")
    run = store.runs.create(
        experiment_id=experiment_id,
        user_id="",
        start_time=None,
        run_name="r",
        tags=[KeyValue("mlflow.user", "ann"), KeyValue("t", "v")],
    )
    stored = store.runs.get(run.info.run_id)
    assert stored.info == run.info and stored.tags == run.tags
    assert run.info.user_id == "ann" and run.info.artifact_uri.endswith(
        f"/{run.info.run_id}/artifacts"
    )
