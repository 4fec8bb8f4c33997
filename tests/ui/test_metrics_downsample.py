"""The store's chart sampling on all three databases: whole short series, bounded long
ones that keep their extremes and ends, zoom windows, both x axes, NaN and huge steps."""

from __future__ import annotations

import math
import uuid

import pytest

from service.errors import ResourceDoesNotExist
from service.store import Store
from service.store.entities.tracking import MetricPoint
from service.store.metrics import insert_metrics
from service.store.metrics_downsample import XAxis, sample_histories

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

T0 = 1_700_000_000_000


@pytest.fixture
def store(migrated_database) -> Store:
    return Store.over(migrated_database)


@pytest.fixture
def run_id(store: Store) -> str:
    experiment_id = store.experiments.create(f"downsample-{uuid.uuid4().hex[:10]}")
    run = store.runs.create(
        experiment_id=experiment_id, user_id="t", start_time=T0, run_name="r", tags=[]
    )
    return run.info.run_id


def log(store: Store, run_id: str, points: list[MetricPoint]) -> None:
    for i in range(0, len(points), 5000):
        with store.db.write() as conn:
            insert_metrics(conn, store.db.dialect, run_id, points[i : i + 5000])


def series(n: int, key: str = "loss", value=lambda i: math.sin(i / 50)) -> list[MetricPoint]:
    return [MetricPoint(key, value(i), T0 + 7 * i, step=i) for i in range(n)]


def test_a_short_series_comes_back_whole_with_nan_as_gaps(store, run_id):
    points = series(50)
    points[10] = MetricPoint("loss", math.nan, T0 + 70, step=10)
    log(store, run_id, points)
    [got] = sample_histories(store.db, [run_id], "loss", x_axis=XAxis.STEP, max_points=50)
    assert not got.downsampled
    assert got.point_count == 50
    assert got.x == list(range(50))
    assert got.y[10] is None
    assert got.y[11] == pytest.approx(math.sin(11 / 50))


def test_a_long_series_is_bounded_and_keeps_extremes_and_ends(store, run_id):
    spikes = {4321: 100.0, 7777: -50.0}
    log(store, run_id, series(20_000, value=lambda i: spikes.get(i, math.sin(i / 50))))
    [got] = sample_histories(store.db, [run_id], "loss", x_axis=XAxis.STEP, max_points=500)
    assert got.downsampled
    assert got.point_count == 20_000
    assert 400 <= len(got.x) <= 500
    assert len(got.x) == len(got.y)
    assert got.x == sorted(got.x)
    assert got.x[0] == 0
    assert got.x[-1] == 19_999
    assert max(got.y) == 100.0
    assert min(got.y) == -50.0


def test_zooming_in_returns_the_window_at_full_resolution(store, run_id):
    log(store, run_id, series(20_000))
    [got] = sample_histories(
        store.db, [run_id], "loss", x_axis=XAxis.STEP, max_points=500, x_min=1000, x_max=1199
    )
    assert not got.downsampled
    assert got.x == list(range(1000, 1200))
    [wider] = sample_histories(
        store.db, [run_id], "loss", x_axis=XAxis.STEP, max_points=500, x_min=1000, x_max=5999
    )
    assert wider.downsampled
    assert wider.point_count == 5000
    assert wider.x[0] == 1000
    assert wider.x[-1] == 5999


def test_the_time_axis_uses_timestamps(store, run_id):
    log(store, run_id, series(3000))
    [short] = sample_histories(store.db, [run_id], "loss", x_axis=XAxis.TIMESTAMP, max_points=5000)
    assert short.x == [T0 + 7 * i for i in range(3000)]
    [long] = sample_histories(store.db, [run_id], "loss", x_axis=XAxis.TIMESTAMP, max_points=100)
    assert long.downsampled
    assert long.x[0] == T0
    assert long.x[-1] == T0 + 7 * 2999
    assert len(long.x) <= 100


def test_several_runs_and_a_missing_key(store, run_id):
    other = store.runs.create(
        experiment_id=store.runs.get(run_id).info.experiment_id,
        user_id="t",
        start_time=T0,
        run_name="other",
        tags=[],
    ).info.run_id
    log(store, run_id, series(10))
    got = sample_histories(store.db, [run_id, other], "loss", x_axis=XAxis.STEP, max_points=100)
    assert [s.run_id for s in got] == [run_id, other]
    assert got[0].point_count == 10
    assert got[1].x == [] and got[1].point_count == 0


def test_a_missing_run_is_an_error(store, run_id):
    with pytest.raises(ResourceDoesNotExist):
        sample_histories(store.db, [run_id, "f" * 32], "loss", x_axis=XAxis.STEP, max_points=10)


def test_only_nan_and_huge_steps(store, run_id):
    log(store, run_id, [MetricPoint("nan", math.nan, T0 + i, step=i) for i in range(300)])
    [nan] = sample_histories(store.db, [run_id], "nan", x_axis=XAxis.STEP, max_points=100)
    assert nan.downsampled and nan.x == [] and nan.point_count == 0

    huge = [MetricPoint("big", float(i), T0 + i, step=i * (2**62 // 999)) for i in range(1000)]
    log(store, run_id, huge)
    [big] = sample_histories(store.db, [run_id], "big", x_axis=XAxis.STEP, max_points=100)
    assert big.downsampled
    assert len(big.x) <= 100
    assert big.x[0] == 0 and big.x[-1] == huge[-1].step
    assert min(big.y) == 0.0 and max(big.y) == 999.0
