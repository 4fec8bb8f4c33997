"""Metric history for charts: at most ``max_points`` points per series, reduced in SQL.

A series (or the zoomed window ``[x_min, x_max]`` of one) with at most ``max_points``
points comes back whole. A longer one is cut into equal-width buckets along x and the
database returns one row per bucket: its first and last x, its minimum and maximum value
and its point count (min/max decimation). Each bucket becomes two points, the extremes
placed at the bucket's first and last x in the order of the local trend, so spikes and the
envelope survive at any zoom while a 1M-point series costs one indexed aggregate scan and
a response of a few thousand points. NaN points are gaps: kept (as ``None``) in whole
series, left out of buckets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.errors import ResourceDoesNotExist
from service.store.db import Database
from service.store.tables import Metric, table_of
from service.store.tables import Run as RunRow

metrics = table_of(Metric)
runs = table_of(RunRow)


class XAxis(Enum):
    STEP = "step"
    TIMESTAMP = "timestamp"


@dataclass(frozen=True, slots=True)
class SampledSeries:
    """One run's history of one metric, ready to plot; ``y`` is None where the value is NaN."""

    run_id: str
    key: str
    x: list[int]
    y: list[float | None]
    point_count: int
    downsampled: bool


@dataclass(frozen=True, slots=True)
class _Bucket:
    first_x: int
    last_x: int
    low: float
    high: float

    @property
    def mid(self) -> float:
        return self.low / 2 + self.high / 2  # halves first: the sum may overflow a double


def sample_histories(
    db: Database,
    run_ids: Sequence[str],
    key: str,
    *,
    x_axis: XAxis,
    max_points: int,
    x_min: int | None = None,
    x_max: int | None = None,
) -> list[SampledSeries]:
    """The history of ``key`` in each run, reduced to at most ``max_points`` points each."""
    with db.read() as conn:
        found = set(
            conn.execute(sa.select(runs.c.run_uuid).where(runs.c.run_uuid.in_(run_ids))).scalars()
        )
        missing = [run_id for run_id in run_ids if run_id not in found]
        if missing:
            raise ResourceDoesNotExist(f"Run with id={missing[0]} not found")
        return [_sample(conn, run_id, key, x_axis, max_points, x_min, x_max) for run_id in run_ids]


def _sample(
    conn: Connection,
    run_id: str,
    key: str,
    x_axis: XAxis,
    max_points: int,
    x_min: int | None,
    x_max: int | None,
) -> SampledSeries:
    x = metrics.c.step if x_axis is XAxis.STEP else metrics.c.timestamp
    where = [metrics.c.run_uuid == run_id, metrics.c.key == key]
    if x_min is not None:
        where.append(x >= x_min)
    if x_max is not None:
        where.append(x <= x_max)

    # Primary-key order, so probing a long series reads only max_points + 1 index entries.
    probe = (
        sa.select(metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan)
        .where(*where)
        .order_by(metrics.c.step, metrics.c.timestamp, metrics.c.value)
        .limit(max_points + 1)
    )
    rows = list(conn.execute(probe))
    if len(rows) <= max_points:
        if x_axis is XAxis.TIMESTAMP:
            rows.sort(key=lambda row: (row.timestamp, row.step))
        return SampledSeries(
            run_id=run_id,
            key=key,
            x=[row.step if x_axis is XAxis.STEP else row.timestamp for row in rows],
            y=[None if row.is_nan else row.value for row in rows],
            point_count=len(rows),
            downsampled=False,
        )

    # Two scalar subqueries: each is an index seek on the step axis, on every backend.
    low_x, high_x = conn.execute(
        sa.select(
            sa.select(sa.func.min(x)).where(*where).scalar_subquery(),
            sa.select(sa.func.max(x)).where(*where).scalar_subquery(),
        )
    ).one()
    finite = [*where, metrics.c.is_nan == sa.false()]
    buckets, count = _buckets(conn, x, finite, low_x, high_x, max_points // 2 - 1)
    xs, ys = _decimate(buckets)
    return SampledSeries(run_id, key, xs, ys, count, True)


def _buckets(
    conn: Connection,
    x: sa.ColumnElement[int],
    where: list[sa.ColumnElement[bool]],
    low_x: int,
    high_x: int,
    target: int,
) -> tuple[list[_Bucket], int]:
    """Group the points into about ``target`` equal-width buckets of x, one row each.

    The bucket number is ``(x - low_x) * scale`` cast to an integer. Whether a backend
    truncates or rounds that cast, the buckets are equal-width and in x order, and there
    are at most ``target + 1`` of them.
    """
    scale = target / max(high_x - low_x, 1)
    bucket = sa.cast((x - low_x) * sa.literal(scale, sa.Float), sa.BigInteger).label("bucket")
    query = (
        sa.select(
            bucket,
            sa.func.min(x),
            sa.func.max(x),
            sa.func.min(metrics.c.value),
            sa.func.max(metrics.c.value),
            sa.func.count(),
        )
        .where(*where)
        .group_by(bucket)
        .order_by(bucket)
    )
    buckets: list[_Bucket] = []
    count = 0
    for _, first_x, last_x, low, high, n in conn.execute(query):
        buckets.append(_Bucket(int(first_x), int(last_x), float(low), float(high)))
        count += int(n)
    return buckets, count


def _decimate(buckets: list[_Bucket]) -> tuple[list[int], list[float | None]]:
    """Two points per bucket: the extremes, at its first and last x, following the trend."""
    xs: list[int] = []
    ys: list[float | None] = []
    for i, b in enumerate(buckets):
        if b.first_x == b.last_x and b.low == b.high:
            xs.append(b.first_x)
            ys.append(b.low)
            continue
        before = buckets[i - 1].mid if i > 0 else b.mid
        after = buckets[i + 1].mid if i + 1 < len(buckets) else b.mid
        rising = after >= before
        xs.extend((b.first_x, b.last_x))
        ys.extend((b.low, b.high) if rising else (b.high, b.low))
    return xs, ys
