"""Metric writes on every backend: history, the latest value per key, retries, run checks."""

from __future__ import annotations

import math

import pytest

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store import Store
from service.store.entities.common import KeyValue
from service.store.entities.tracking import MetricPoint
from service.store.metrics import insert_metrics
from service.store.validation import MAX_DOUBLE


def latest(store: Store, run_id: str) -> dict[str, tuple]:
    return {
        m.key: (m.value, m.timestamp, m.step, m.model_id, m.dataset_name, m.dataset_digest)
        for m in store.runs.get(run_id).metrics
    }


def history(store: Store, run_id: str, key: str) -> list[tuple]:
    page = store.metrics.history(run_id, key, max_results=None, page_token=None)
    return [(value, bool(is_nan), ts, step) for _, value, is_nan, ts, step, *_ in page.items]


def test_latest_is_the_greatest_step_then_timestamp_then_value(store: Store, run_id: str) -> None:
    model_id = _logged_model(store, run_id)
    store.runs.log_batch(
        run_id,
        metrics=[
            ("loss", 0.5, 10, 2, None, None, None),
            ("loss", 0.9, 5, 3, model_id, "train", "d1"),
            ("loss", 0.1, 20, 1, None, None, None),
            ("acc", 0.2, 7, 0, None, None, None),
            ("acc", 0.3, 7, 0, None, None, None),
            ("acc", 0.1, 6, 0, None, None, None),
        ],
    )
    assert latest(store, run_id) == {
        "loss": (0.9, 5, 3, model_id, "train", "d1"),
        "acc": (0.3, 7, 0, None, None, None),
    }
    store.runs.log_batch(run_id, metrics=[("loss", 0.0, 99, 2, None, None, None)])  # older step
    store.runs.log_batch(run_id, metrics=[("acc", 0.05, 8, 0, None, None, None)])  # newer time
    assert latest(store, run_id)["loss"] == (0.9, 5, 3, model_id, "train", "d1")
    assert latest(store, run_id)["acc"] == (0.05, 8, 0, None, None, None)
    assert len(history(store, run_id, "loss")) == 4


def _logged_model(store: Store, run_id: str) -> str:
    experiment_id = int(store.runs.get(run_id).info.experiment_id)
    return store.logged_models.create(
        experiment_id=experiment_id,
        name=None,
        model_type=None,
        source_run_id=run_id,
        params=[],
        tags=[],
    ).model_id


def test_a_metric_names_only_a_logged_model_of_the_runs_experiment(
    store: Store, run_id: str
) -> None:
    other_experiment = store.experiments.create(f"store-{run_id[:10]}")
    other_run = store.runs.create(
        experiment_id=other_experiment, user_id="u", start_time=1, run_name=None, tags=[]
    )
    foreign = _logged_model(store, other_run.info.run_id)
    for model_id in (foreign, "m-missing"):
        with pytest.raises(ResourceDoesNotExist, match="not found in the experiment of run"):
            store.runs.log_batch(run_id, metrics=[("k", 1.0, 1, 0, model_id, None, None)])
    assert latest(store, run_id) == {}


def test_a_retried_batch_adds_nothing(store: Store, run_id: str) -> None:
    batch = [("m", float(step), 100 + step, step, None, None, None) for step in range(50)]
    store.runs.log_batch(run_id, metrics=batch)
    store.runs.log_batch(run_id, metrics=batch)
    store.runs.log_batch(run_id, metrics=batch[10:20])
    assert history(store, run_id, "m") == [(float(s), False, 100 + s, s) for s in range(50)]
    assert latest(store, run_id)["m"] == (49.0, 149, 49, None, None, None)


def test_nan_and_infinities(store: Store, run_id: str) -> None:
    store.runs.log_batch(
        run_id,
        metrics=[
            ("nan", math.nan, 1, 0, None, None, None),
            ("pinf", math.inf, 1, 0, None, None, None),
            ("ninf", -math.inf, 1, 0, None, None, None),
            ("tie", 1.0, 1, 0, None, None, None),
            ("tie", math.nan, 1, 0, None, None, None),
        ],
    )
    values = {key: value[0] for key, value in latest(store, run_id).items()}
    assert math.isnan(values["nan"]) and math.isnan(values["tie"])  # NaN sorts last
    assert values["pinf"] == MAX_DOUBLE and values["ninf"] == -MAX_DOUBLE
    assert sorted(history(store, run_id, "tie")) == [(0.0, True, 1, 0), (1.0, False, 1, 0)]


def test_entity_points_go_in_the_same_way(store: Store, run_id: str) -> None:
    with store.db.write() as conn:
        insert_metrics(
            conn,
            store.db.dialect,
            run_id,
            [MetricPoint("e", 2.0, 5, 1, model_id="m"), MetricPoint("e", 1.0, 5, 0)],
        )
    assert latest(store, run_id)["e"] == (2.0, 5, 1, "m", None, None)
    assert history(store, run_id, "e") == [(1.0, False, 5, 0), (2.0, False, 5, 1)]


def test_unknown_and_deleted_runs_are_refused(store: Store, run_id: str) -> None:
    point = ("m", 1.0, 1, 0, None, None, None)
    with pytest.raises(ResourceDoesNotExist, match=r"Run with id=f+ not found"):
        store.runs.log_batch("f" * 32, metrics=[point])
    store.runs.delete(run_id)
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        store.runs.log_batch(run_id, metrics=[point])
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        store.runs.log_batch(run_id)
    store.runs.restore(run_id)
    store.runs.log_batch(run_id)  # an empty batch is fine on an active run
    with pytest.raises(ResourceDoesNotExist):
        store.runs.log_batch("f" * 32)
    assert "m" not in latest(store, run_id)
    assert history(store, run_id, "m") == []


def test_a_refused_batch_writes_nothing(store: Store, run_id: str) -> None:
    store.runs.log_batch(run_id, params=[KeyValue("p", "1")])
    with pytest.raises(InvalidParameterValue, match="Changing param values is not allowed"):
        store.runs.log_batch(
            run_id,
            metrics=[("m", 1.0, 1, 0, None, None, None)],
            params=[KeyValue("p", "2")],
            tags=[KeyValue("t", "v")],
        )
    run = store.runs.get(run_id)
    assert run.metrics == [] and all(tag.key != "t" for tag in run.tags)
    assert history(store, run_id, "m") == []


def test_single_points_with_and_without_params(store: Store, run_id: str) -> None:
    """One point takes its own statement shape on PostgreSQL, in both write paths."""
    store.runs.log_batch(run_id, metrics=[("one", math.nan, 3, 1, None, "d", "x")])
    store.runs.log_batch(
        run_id, metrics=[("one", 2.0, 2, 1, None, None, None)], params=[KeyValue("p", "v")]
    )
    store.runs.log_batch(run_id, metrics=[("one", 2.0, 2, 1, None, None, None)])  # a retry
    value, *rest = latest(store, run_id)["one"]
    assert math.isnan(value) and rest == [3, 1, None, "d", "x"]
    assert sorted(history(store, run_id, "one")) == [(0.0, True, 3, 1), (2.0, False, 2, 1)]
    assert store.runs.get(run_id).params == [KeyValue("p", "v")]
