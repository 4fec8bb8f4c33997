"""Metric history read in chunks, on every backend: every point once, in history order."""

from __future__ import annotations

import math

import pytest

from service.errors import ResourceDoesNotExist
from service.store import Store
from service.store.entities.tracking import MetricPoint


def _points() -> list[MetricPoint]:
    """Ties on step, on (step, timestamp) and on (step, timestamp, value) with NaN."""
    points = [
        MetricPoint("loss", float(step % 3), 1000 + step % 2, step // 2) for step in range(17)
    ]
    points += [
        MetricPoint("loss", 0.0, 5, 3),
        MetricPoint("loss", math.nan, 5, 3),
        MetricPoint("loss", -1.5, 5, 3),
        MetricPoint("other", 9.0, 1, 0),
    ]
    return points


@pytest.mark.parametrize("chunk_size", [1, 3, 4, 100])
def test_chunks_hold_every_point_once_in_order(store: Store, run_id: str, chunk_size: int) -> None:
    store.runs.log_batch(run_id, metrics=[point.logged() for point in _points()])
    whole = store.metrics.history(run_id, "loss", max_results=None, page_token=None).items
    chunks = list(store.metrics.history_chunks(run_id, "loss", chunk_size=chunk_size))

    assert all(0 < len(chunk) <= chunk_size for chunk in chunks)
    streamed = [tuple(row) for chunk in chunks for row in chunk]
    assert streamed == [tuple(row) for row in whole]
    assert len(streamed) == len(_points()) - 1
    keys = [
        (step, timestamp, value, bool(is_nan)) for _, value, is_nan, timestamp, step, *_ in streamed
    ]
    assert keys == sorted(keys)


def test_chunks_of_an_unknown_run_raise_on_first_read(store: Store) -> None:
    with pytest.raises(ResourceDoesNotExist):
        next(store.metrics.history_chunks("0" * 32, "loss"))


def test_a_missing_key_has_no_chunks(store: Store, run_id: str) -> None:
    assert list(store.metrics.history_chunks(run_id, "never-logged")) == []
