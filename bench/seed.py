"""Seeding large, identical data sets into both schemas with direct SQL.

Creating 100,000 runs through ``mlflow server``'s REST API would take the better part of
an hour, so the search and history data go straight into each server's tables. The
content is the same for every server (same run ids, names, params, metric values); only
the table layout differs. Experiments are still created through the API, so each server
owns them exactly as it would in real use. Seeding is not timed.

On PostgreSQL the rows go in with ``COPY`` and then ``ANALYZE`` (autovacuum would do
that soon after any real bulk load). SQLite gets no ``ANALYZE``: neither server runs it.
``analyse=False`` leaves PostgreSQL's tables as a bulk load leaves them, with autovacuum
off for them so that they stay that way while the searches run (``--only unanalysed``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from bench.servers import DatabaseSpec

SEARCH_FILTER = "metrics.acc > 0.5 and params.model = 'm3'"
SEARCH_ORDER = ["metrics.loss ASC"]
SEARCH_PAGE = 100
#: The search on a database without statistics (``--only unanalysed``), as issue 20 reports it.
UNANALYSED_FILTER = "metrics.acc > 0.5 and params.lr = '0.01'"
UNANALYSED_ORDER = ["metrics.acc DESC"]
MODELS = [f"m{i}" for i in range(10)]
START_TIME = 1_700_000_000_000
HISTORY_KEY = "loss"


@dataclass(frozen=True)
class Layout:
    """Where one program keeps runs and their data: table and column names."""

    runs: str
    run_columns: tuple[str, ...]
    tags: str
    metric_columns: tuple[str, ...]  # for both metrics and latest_metrics

    def run_row(self, run: SeedRun) -> tuple:
        values = {
            "run_uuid": run.run_id,
            "experiment_id": run.experiment_id,
            "name": run.name,
            "user_id": "bench",
            "status": "FINISHED",
            "start_time": run.start_time,
            "end_time": run.start_time + 60_000,
            "lifecycle_stage": "active",
            "artifact_uri": run.artifact_uri,
            "source_type": "LOCAL",
            "source_name": "",
            "entry_point_name": "",
            "source_version": "",
        }
        return tuple(values[c] for c in self.run_columns)

    def metric_row(self, run_id: str, key: str, step: int, timestamp: int, value: float) -> tuple:
        values = {
            "run_uuid": run_id,
            "key": key,
            "step": step,
            "timestamp": timestamp,
            "value": value,
            "is_nan": False,
        }
        return tuple(values[c] for c in self.metric_columns)


STRATUS = Layout(
    runs="runs",
    run_columns=(
        "run_uuid",
        "experiment_id",
        "name",
        "user_id",
        "status",
        "start_time",
        "end_time",
        "lifecycle_stage",
        "artifact_uri",
    ),
    tags="run_tags",
    metric_columns=("run_uuid", "key", "step", "timestamp", "value", "is_nan"),
)
MLFLOW = Layout(
    runs="runs",
    run_columns=(
        "run_uuid",
        "name",
        "source_type",
        "source_name",
        "entry_point_name",
        "user_id",
        "status",
        "start_time",
        "end_time",
        "source_version",
        "lifecycle_stage",
        "artifact_uri",
        "experiment_id",
    ),
    tags="tags",
    metric_columns=("key", "value", "timestamp", "run_uuid", "step", "is_nan"),
)


@dataclass(frozen=True)
class SeedRun:
    run_id: str
    experiment_id: int
    name: str
    start_time: int
    artifact_uri: str
    params: dict[str, str]
    metrics: dict[str, float]


def search_runs(count: int, experiment_id: int, artifact_location: str) -> list[SeedRun]:
    """``count`` runs with 5 params, 3 metrics and 3 tags each, the same on every server."""
    rng = random.Random(count)
    runs = []
    for i in range(count):
        run_id = f"{rng.getrandbits(128):032x}"
        runs.append(
            SeedRun(
                run_id=run_id,
                experiment_id=experiment_id,
                name=f"run-{i}",
                start_time=START_TIME + i * 1000,
                artifact_uri=f"{artifact_location.rstrip('/')}/{run_id}/artifacts",
                params={
                    "model": rng.choice(MODELS),
                    "lr": f"{rng.choice([0.1, 0.01, 0.001, 0.0001])}",
                    "batch_size": str(rng.choice([16, 32, 64, 128])),
                    "optimizer": rng.choice(["adam", "sgd", "adamw"]),
                    "seed": str(i),
                },
                metrics={"acc": rng.random(), "loss": rng.random() * 3, "f1": rng.random()},
            )
        )
    return runs


def expected_search(runs: list[SeedRun]) -> list[str]:
    """The run ids that SEARCH_FILTER / SEARCH_ORDER must return, first page."""
    matching = [r for r in runs if r.metrics["acc"] > 0.5 and r.params["model"] == "m3"]
    matching.sort(key=lambda r: r.metrics["loss"])
    return [r.run_id for r in matching[:SEARCH_PAGE]]


def expected_unanalysed_search(runs: list[SeedRun]) -> list[str]:
    """The run ids that UNANALYSED_FILTER / UNANALYSED_ORDER must return, first page."""
    matching = [r for r in runs if r.metrics["acc"] > 0.5 and r.params["lr"] == "0.01"]
    matching.sort(key=lambda r: -r.metrics["acc"])
    return [r.run_id for r in matching[:SEARCH_PAGE]]


def insert_runs(
    db: DatabaseSpec, layout: Layout, runs: list[SeedRun], *, analyse: bool = True
) -> None:
    tags = [
        (r.run_id, key, value)
        for r in runs
        for key, value in (("mlflow.runName", r.name), ("mlflow.user", "bench"), ("team", "a"))
    ]
    params = [(r.run_id, k, v) for r in runs for k, v in r.params.items()]
    metrics = [
        layout.metric_row(r.run_id, key, 0, r.start_time, value)
        for r in runs
        for key, value in r.metrics.items()
    ]
    with Writer(db, analyse=analyse) as writer:
        writer.put(layout.runs, layout.run_columns, (layout.run_row(r) for r in runs))
        writer.put(layout.tags, ("run_uuid", "key", "value"), iter(tags))
        writer.put("params", ("run_uuid", "key", "value"), iter(params))
        writer.put("metrics", layout.metric_columns, iter(metrics))
        writer.put("latest_metrics", layout.metric_columns, iter(metrics))


def insert_history(db: DatabaseSpec, layout: Layout, run: SeedRun, points: int) -> None:
    """One run with ``points`` points of HISTORY_KEY (step i, one point per second)."""
    insert_runs(db, layout, [run])

    def rows() -> Iterator[tuple]:
        for step in range(points):
            value = 2.0 * math.exp(-step / max(points / 5, 1)) + 0.001 * (step % 97)
            yield layout.metric_row(run.run_id, HISTORY_KEY, step, START_TIME + step * 1000, value)

    last = layout.metric_row(
        run.run_id,
        HISTORY_KEY,
        points - 1,
        START_TIME + (points - 1) * 1000,
        2.0 * math.exp(-(points - 1) / max(points / 5, 1)) + 0.001 * ((points - 1) % 97),
    )
    with Writer(db) as writer:
        writer.put("metrics", layout.metric_columns, rows())
        writer.put("latest_metrics", layout.metric_columns, iter([last]))


class Writer:
    """Bulk inserts in one transaction: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, db: DatabaseSpec, *, analyse: bool = True) -> None:
        self.db = db
        self.analyse = analyse
        self.conn = db.connect()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type, *_: object) -> None:
        if exc_type is None:
            self.conn.commit()
            if self.db.kind == "postgresql" and self.analyse:
                self.conn.autocommit = True
                self.conn.execute("ANALYZE")
        else:
            self.conn.rollback()
        self.conn.close()

    def put(self, table: str, columns: tuple[str, ...], rows: Iterator[tuple]) -> None:
        names = ", ".join(columns)
        if self.db.kind == "postgresql" and not self.analyse:
            self.conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        if self.db.kind == "sqlite":
            marks = ", ".join("?" for _ in columns)
            self.conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            return
        with (
            self.conn.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
