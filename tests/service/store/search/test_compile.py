"""The compiled queries against SQLite, PostgreSQL and MariaDB (via ``migrated_database``).

The databases are shared by the session, so each module builds its own experiments with
unique names and every query is scoped to them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from service.store import tables
from service.store.entities.tracking import ViewType
from service.store.search import (
    DatasetFilter,
    Target,
    experiment_search_query,
    logged_model_search_query,
    model_version_search_query,
    parse_filter,
    parse_logged_model_order_by,
    parse_order_by,
    registered_model_search_query,
    run_search_query,
)

RUN_NAMES = ("r1", "r2", "r3", "r4", "r5")


def _t(model: Any) -> sa.Table:
    return model.__table__


@dataclass
class World:
    db: Any
    experiment_id: int
    other_experiment_id: int
    run: dict[str, str]
    name_of: dict[str, str]
    prefix: str

    def select(self, query: sa.Select[Any]) -> list[Any]:
        with self.db.read() as conn:
            return [row[0] if len(row) == 1 else tuple(row) for row in conn.execute(query)]

    def runs(
        self,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        experiment_ids: list[int] | None = None,
    ) -> list[str]:
        query = run_search_query(
            experiment_ids or [self.experiment_id],
            view_type,
            parse_filter(filter_string, Target.RUNS),
            parse_order_by(order_by, Target.RUNS),
        )
        return [self.name_of[run_id] for run_id in self.select(query)]

    def matching(self, filter_string: str, view_type: ViewType = ViewType.ACTIVE_ONLY) -> set[str]:
        return set(self.runs(filter_string, view_type=view_type))


@pytest.fixture(scope="module")
def world(migrated_database: Any) -> Iterator[World]:
    """Two experiments: runs r1..r4 (active) and r5 (deleted) in the first, r6 in the other."""
    prefix = f"search-{uuid.uuid4().hex[:10]}"
    run = {name: uuid.uuid4().hex for name in (*RUN_NAMES, "r6")}
    with migrated_database.write() as conn:
        exp_ids = []
        for i, suffix in enumerate(("main", "other")):
            result = conn.execute(
                sa.insert(_t(tables.Experiment)).values(
                    name=f"{prefix}-{suffix}",
                    artifact_location="mem:/",
                    lifecycle_stage="active",
                    creation_time=100 + i,
                    last_update_time=100 + i,
                )
            )
            exp_ids.append(result.inserted_primary_key[0])
        main, other = exp_ids
        runs = [
            ("r1", main, "sweep-sgd-1", "FINISHED", "alice", 1000, 2000, "active"),
            ("r2", main, "sweep-sgd-2", "FAILED", "bob", 2000, None, "active"),
            ("r3", main, "Sweep-Adam", "FINISHED", "alice", 3000, 4000, "active"),
            ("r4", main, "other", "KILLED", "carol", 3000, 3500, "active"),
            ("r5", main, "gone", "FINISHED", "alice", 5000, 6000, "deleted"),
            ("r6", other, "elsewhere", "FINISHED", "alice", 500, 600, "active"),
        ]
        conn.execute(
            sa.insert(_t(tables.Run)),
            [
                dict(
                    run_uuid=run[n],
                    experiment_id=e,
                    name=name,
                    status=status,
                    user_id=user,
                    start_time=start,
                    end_time=end,
                    lifecycle_stage=stage,
                    artifact_uri=f"mem:/{n}",
                )
                for n, e, name, status, user, start, end, stage in runs
            ],
        )
        metrics = [
            ("r1", "loss", 0.3, False),
            ("r1", "acc", 0.9, False),
            ("r2", "loss", 0.7, False),
            ("r3", "loss", 0.0, True),
            ("r5", "loss", 0.1, False),
            ("r6", "loss", 0.2, False),
        ]
        conn.execute(
            sa.insert(_t(tables.LatestMetric)),
            [
                dict(run_uuid=run[n], key=k, value=v, is_nan=nan, step=0, timestamp=1)
                for n, k, v, nan in metrics
            ],
        )
        params = [
            ("r1", "optimizer", "adam"),
            ("r1", "child_idx", "0"),
            ("r1", "note", "salt and pepper"),
            ("r2", "optimizer", "sgd"),
            ("r2", "child_idx", "1"),
            ("r2", "note", "salt"),
            ("r3", "optimizer", "Adam"),
            ("r3", "child_idx", "10"),
            ("r5", "optimizer", "adam"),
            ("r6", "optimizer", "adam"),
        ]
        conn.execute(
            sa.insert(_t(tables.Param)),
            [dict(run_uuid=run[n], key=k, value=v) for n, k, v in params],
        )
        tags = [
            ("r1", "sweep", "v1"),
            ("r1", "mlflow.parentRunId", "parent"),
            ("r1", "my key", "Mixed"),
            ("r2", "sweep", "V1"),
            ("r2", "my key", "mixed"),
            ("r3", "sweep", "50%"),
            ("r4", "sweep", "500"),
        ]
        conn.execute(
            sa.insert(_t(tables.RunTag)),
            [dict(run_uuid=run[n], key=k, value=v) for n, k, v in tags],
        )
        datasets = {"iris": uuid.uuid4().hex, "wine": uuid.uuid4().hex}
        conn.execute(
            sa.insert(_t(tables.Dataset)),
            [
                dict(
                    dataset_uuid=datasets["iris"],
                    experiment_id=main,
                    name="iris",
                    digest="abc",
                    source_type="local",
                    source="{}",
                ),
                dict(
                    dataset_uuid=datasets["wine"],
                    experiment_id=main,
                    name="wine",
                    digest="def",
                    source_type="local",
                    source="{}",
                ),
            ],
        )
        links = [("r1", "iris", "train"), ("r2", "wine", "eval"), ("r2", "iris", "eval")]
        conn.execute(
            sa.insert(_t(tables.RunInput)),
            [dict(run_uuid=run[n], dataset_uuid=datasets[d]) for n, d, _ in links],
        )
        conn.execute(
            sa.insert(_t(tables.RunInputTag)),
            [
                dict(run_uuid=run[n], dataset_uuid=datasets[d], key="mlflow.data.context", value=c)
                for n, d, c in links
            ],
        )
    yield World(migrated_database, main, other, run, {v: k for k, v in run.items()}, prefix)


# --- runs: filters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.loss < 0.5", {"r1"}),
        ("metrics.loss <= 0.3", {"r1"}),
        ("metrics.loss > 0.3", {"r2"}),
        ("metrics.loss >= 0.3", {"r1", "r2"}),
        ("metrics.loss = 0.7", {"r2"}),
        ("metrics.loss = 0", set()),  # NaN is stored as 0 but never equals anything
        ("metrics.loss != 0.7", {"r1", "r3"}),  # NaN != anything; r4 has no loss
        ("metrics.loss > -1e9 AND metrics.acc > 0.5", {"r1"}),
        ("metric.missing < 100", set()),
    ],
)
def test_metric_comparators(world: World, filter_string: str, expected: set[str]) -> None:
    assert world.matching(filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("params.optimizer = 'adam'", {"r1"}),
        ("params.optimizer != 'adam'", {"r2", "r3"}),  # only runs that have the param
        ("params.optimizer LIKE 'a%'", {"r1"}),  # case-sensitive
        ("params.optimizer LIKE 'A%'", {"r3"}),
        ("params.optimizer ILIKE 'A%'", {"r1", "r3"}),
        ("params.optimizer ILIKE '%DA%'", {"r1", "r3"}),
        ("params.optimizer LIKE '_gd'", {"r2"}),
        ("params.optimizer IS NULL", {"r4"}),
        ("params.optimizer IS NOT NULL", {"r1", "r2", "r3"}),
        ("params.note = 'salt and pepper'", {"r1"}),
        ("params.note = 'salt' AND params.optimizer = 'sgd'", {"r2"}),
        ("params.note LIKE 'salt and%' AND params.child_idx = '0'", {"r1"}),
        ("params.optimizer = 'ADAM'", set()),
    ],
)
def test_param_comparators(world: World, filter_string: str, expected: set[str]) -> None:
    assert world.matching(filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("tags.sweep = 'v1'", {"r1"}),
        ("tags.sweep != 'v1'", {"r2", "r3", "r4"}),
        ("tags.sweep ILIKE 'v1'", {"r1", "r2"}),
        ("tags.sweep LIKE 'V%'", {"r2"}),
        ("tags.sweep LIKE '50\\%'", {"r3"}),  # escaped % is literal on every backend
        ("tags.sweep LIKE '50%'", {"r3", "r4"}),
        ("tags.sweep LIKE '5_0'", {"r4"}),
        ("tags.sweep LIKE '5\\_0'", set()),
        ("tags.mlflow.parentRunId = 'parent'", {"r1"}),
        ("tags.`my key` = 'mixed'", {"r2"}),
        ("tags.\"my key\" ILIKE 'MIXED'", {"r1", "r2"}),
        ("tags.`my key` IS NULL", {"r3", "r4"}),
        ("tags.sweep IS NOT NULL AND tags.`my key` IS NULL", {"r3", "r4"}),
    ],
)
def test_tag_comparators(world: World, filter_string: str, expected: set[str]) -> None:
    assert world.matching(filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("attributes.status = 'FAILED'", {"r2"}),
        ("status != 'FINISHED'", {"r2", "r4"}),
        ("status IN ('FAILED', 'KILLED')", {"r2", "r4"}),
        ("status NOT IN ('FAILED', 'KILLED')", {"r1", "r3"}),
        ("attributes.run_name LIKE 'sweep-sgd%'", {"r1", "r2"}),
        ("run_name LIKE 'sweep%'", {"r1", "r2"}),  # case-sensitive: not Sweep-Adam
        ("run_name ILIKE 'sweep%'", {"r1", "r2", "r3"}),
        ("`Run name` = 'other'", {"r4"}),
        ("user_id = 'alice'", {"r1", "r3"}),
        ("start_time >= 2000", {"r2", "r3", "r4"}),
        ("created < 2000", {"r1"}),
        ("start_time = 3000", {"r3", "r4"}),
        ("start_time != 3000", {"r1", "r2"}),
        ("end_time > 0", {"r1", "r3", "r4"}),  # r2 is still running (NULL end_time)
        ("end_time != 2000", {"r3", "r4"}),
        ("artifact_uri LIKE 'mem:/r_'", {"r1", "r2", "r3", "r4"}),
    ],
)
def test_attribute_comparators(world: World, filter_string: str, expected: set[str]) -> None:
    assert world.matching(filter_string) == expected


def test_run_id_filters(world: World) -> None:
    r1, r2 = world.run["r1"], world.run["r2"]
    assert world.matching(f"run_id = '{r1}'") == {"r1"}
    assert world.matching(f"attributes.run_id IN ('{r1}', '{r2}')") == {"r1", "r2"}
    assert world.matching(f"run_id NOT IN ('{r1}')") == {"r2", "r3", "r4"}
    assert world.matching(f"run_id != '{r1}'") == {"r2", "r3", "r4"}


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("dataset.name = 'iris'", {"r1", "r2"}),
        ("datasets.name = 'wine'", {"r2"}),
        ("dataset.digest IN ('def')", {"r2"}),
        ("dataset.name LIKE 'IR%'", set()),
        ("dataset.name ILIKE 'IR%'", {"r1", "r2"}),
        ("dataset.context = 'train'", {"r1"}),
        ("dataset.context = 'eval' AND dataset.name = 'wine'", {"r2"}),
        ("dataset.context != 'train'", {"r2"}),
    ],
)
def test_dataset_comparators(world: World, filter_string: str, expected: set[str]) -> None:
    assert world.matching(filter_string) == expected


def test_view_types_and_experiments(world: World) -> None:
    assert world.matching("params.optimizer = 'adam'") == {"r1"}
    assert world.matching("params.optimizer = 'adam'", ViewType.DELETED_ONLY) == {"r5"}
    assert world.matching("params.optimizer = 'adam'", ViewType.ALL) == {"r1", "r5"}
    assert set(world.runs(view_type=ViewType.DELETED_ONLY)) == {"r5"}
    both = [world.experiment_id, world.other_experiment_id]
    assert set(world.runs("params.optimizer = 'adam'", experiment_ids=both)) == {"r1", "r6"}
    assert world.runs(experiment_ids=[world.other_experiment_id]) == ["r6"]


# --- runs: ordering ------------------------------------------------------------------------


def _tie(world: World) -> list[str]:
    """r3 and r4 share start_time; the run id breaks the tie, ascending."""
    return sorted(["r3", "r4"], key=world.run.__getitem__)


def test_default_order_is_start_time_desc_then_run_id(world: World) -> None:
    assert world.runs() == [*_tie(world), "r2", "r1"]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["metrics.loss ASC"], ["r1", "r2", "r3", "r4"]),  # numbers, NaN, missing
        (["metrics.loss DESC"], ["r2", "r1", "r3", "r4"]),
        (["params.child_idx"], ["r1", "r2", "r3", "r4"]),  # string order: '0' < '1' < '10'
        (["params.child_idx DESC"], ["r3", "r2", "r1", "r4"]),
        (["attributes.end_time ASC"], ["r1", "r4", "r3", "r2"]),  # NULL end_time last
        (["end_time DESC"], ["r3", "r4", "r1", "r2"]),
        (["attributes.start_time ASC"], ["r1", "r2", "TIE0", "TIE1"]),
        (["tags.sweep DESC", "run_name"], ["r1", "r2", "r4", "r3"]),
        (["status", "metrics.loss DESC"], ["r2", "r1", "r3", "r4"]),
        (["metrics.acc DESC"], ["r1", "TIE0", "TIE1", "r2"]),  # missing: default order after
    ],
)
def test_order_by(world: World, order_by: list[str], expected: list[str]) -> None:
    tie = _tie(world)
    expected = [tie[int(n[3])] if n.startswith("TIE") else n for n in expected]
    assert world.runs(order_by=order_by) == expected


def test_order_and_filter_together_and_paging(world: World) -> None:
    query = run_search_query(
        [world.experiment_id],
        ViewType.ALL,
        parse_filter("params.optimizer IS NOT NULL", Target.RUNS),
        parse_order_by(["metrics.loss ASC"], Target.RUNS),
    )
    everything = world.select(query)
    assert [world.name_of[r] for r in everything] == ["r5", "r1", "r2", "r3"]
    pages = [world.select(query.offset(offset).limit(2)) for offset in (0, 2, 4)]
    assert pages[0] + pages[1] == everything and pages[2] == []


# --- experiments -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def experiments(migrated_database: Any) -> Iterator[tuple[World, dict[str, int]]]:
    prefix = f"exps-{uuid.uuid4().hex[:10]}"
    rows = [
        ("a", 10, "active", {"owner": "ci", "stage": "dev"}),
        ("B", 30, "active", {"owner": "me"}),
        ("c", 20, "active", {}),
        ("d", 20, "deleted", {"owner": "ci"}),
    ]
    ids: dict[str, int] = {}
    with migrated_database.write() as conn:
        for name, created, stage, tags in rows:
            result = conn.execute(
                sa.insert(_t(tables.Experiment)).values(
                    name=f"{prefix}-{name}",
                    artifact_location="mem:/",
                    lifecycle_stage=stage,
                    creation_time=created,
                    last_update_time=created * 2,
                )
            )
            ids[name] = result.inserted_primary_key[0]
            if tags:
                conn.execute(
                    sa.insert(_t(tables.ExperimentTag)),
                    [dict(experiment_id=ids[name], key=k, value=v) for k, v in tags.items()],
                )
    world = World(migrated_database, 0, 0, {}, {v: k for k, v in ids.items()}, prefix)
    yield world, ids


def _experiments(
    world: World,
    filter_string: str,
    order_by: list[str] | None = None,
    view_type: ViewType = ViewType.ACTIVE_ONLY,
) -> list[str]:
    scoped = f"name LIKE '{world.prefix}-%'" + (f" AND {filter_string}" if filter_string else "")
    query = experiment_search_query(
        view_type,
        parse_filter(scoped, Target.EXPERIMENTS),
        parse_order_by(order_by, Target.EXPERIMENTS),
    )
    return [world.name_of[i] for i in world.select(query)]


def test_experiment_search(experiments: tuple[World, dict[str, int]]) -> None:
    world, ids = experiments
    c_first = sorted(["c"], key=ids.__getitem__)
    assert _experiments(world, "") == ["B", *c_first, "a"]  # creation_time DESC, id ASC
    assert _experiments(world, "", view_type=ViewType.ALL)[:1] == ["B"]
    assert set(_experiments(world, "", view_type=ViewType.ALL)) == {"a", "B", "c", "d"}
    assert _experiments(world, "", view_type=ViewType.DELETED_ONLY) == ["d"]
    assert _experiments(world, f"name = '{world.prefix}-a'") == ["a"]
    assert _experiments(world, f"name ILIKE '{world.prefix}-b'") == ["B"]
    assert _experiments(world, f"name LIKE '{world.prefix}-b'") == []
    assert set(_experiments(world, "tags.owner = 'ci'", view_type=ViewType.ALL)) == {"a", "d"}
    assert _experiments(world, "tags.owner != 'ci'") == ["B"]
    assert _experiments(world, "tags.owner IS NULL") == ["c"]
    assert _experiments(world, "tags.stage IS NOT NULL AND tags.owner LIKE 'c%'") == ["a"]
    assert _experiments(world, "creation_time >= 20", ["creation_time"]) == ["c", "B"]
    assert _experiments(world, "last_update_time = 40") == ["c"]
    assert _experiments(world, f"experiment_id IN ('{ids['a']}', '{ids['B']}')", ["name"]) == [
        "B",
        "a",  # binary order on MySQL too: 'B' < 'a'
    ]
    assert _experiments(world, f"experiment_id != '{ids['a']}'", ["name DESC"]) == ["c", "B"]


def test_experiment_ties_break_on_id_desc(experiments: tuple[World, dict[str, int]]) -> None:
    world, ids = experiments
    tied = sorted(["c", "d"], key=ids.__getitem__, reverse=True)
    got = _experiments(world, "creation_time = 20", ["creation_time"], ViewType.ALL)
    assert got == tied


# --- logged models ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models(world: World) -> Iterator[tuple[World, dict[str, str]]]:
    ids = {name: f"m-{uuid.uuid4().hex}" for name in ("m1", "m2", "m3", "m4")}
    rows = [
        ("m1", "model", 100, "LOGGED_MODEL_READY", "active", world.run["r1"]),
        ("m2", "model", 200, "LOGGED_MODEL_PENDING", "active", world.run["r2"]),
        ("m3", "other", 300, "LOGGED_MODEL_READY", "active", None),
        ("m4", "model", 400, "LOGGED_MODEL_READY", "deleted", world.run["r1"]),
    ]
    r1 = world.run["r1"]
    with world.db.write() as conn:
        conn.execute(
            sa.insert(_t(tables.LoggedModel)),
            [
                dict(
                    model_id=ids[n],
                    experiment_id=world.experiment_id,
                    name=name,
                    artifact_location="mem:/",
                    creation_timestamp_ms=ts,
                    last_updated_timestamp_ms=ts + 1,
                    status=status,
                    lifecycle_stage=stage,
                    source_run_id=source,
                    model_type="sklearn" if n == "m1" else "",
                )
                for n, name, ts, status, stage, source in rows
            ],
        )
        conn.execute(
            sa.insert(_t(tables.LoggedModelParam)),
            [
                dict(model_id=ids["m1"], key="C", value="0.1"),
                dict(model_id=ids["m2"], key="C", value="1.0"),
            ],
        )
        conn.execute(
            sa.insert(_t(tables.LoggedModelTag)),
            [
                dict(model_id=ids["m1"], key="framework", value="sklearn"),
                dict(model_id=ids["m3"], key="framework", value="torch"),
            ],
        )
        points = [  # (model, key, value, is_nan, timestamp, dataset)
            ("m1", "acc", 0.5, False, 1, "train"),
            ("m1", "acc", 0.9, False, 2, "test"),
            ("m2", "acc", 0.7, False, 1, "test"),
            ("m3", "acc", 0.0, True, 1, "test"),
        ]
        conn.execute(
            sa.insert(_t(tables.Metric)),
            [
                dict(
                    run_uuid=r1,
                    key=k,
                    value=v,
                    is_nan=nan,
                    step=0,
                    timestamp=ts,
                    model_id=ids[m],
                    dataset_name=d,
                    dataset_digest="dg",
                )
                for m, k, v, nan, ts, d in points
            ],
        )
    yield world, ids


def _models(
    world: World,
    ids: dict[str, str],
    filter_string: str | None = None,
    order_by: list[str] | None = None,
    datasets: tuple[DatasetFilter, ...] = (),
    order_objects: list[dict[str, Any]] | None = None,
) -> list[str]:
    names = {v: k for k, v in ids.items()}
    keys = (
        parse_logged_model_order_by(order_objects)
        if order_objects is not None
        else parse_order_by(order_by, Target.LOGGED_MODELS)
    )
    query = logged_model_search_query(
        [world.experiment_id], parse_filter(filter_string, Target.LOGGED_MODELS), keys, datasets
    )
    return [names[i] for i in world.select(query)]


def test_logged_model_filters(models: tuple[World, dict[str, str]]) -> None:
    world, ids = models
    assert _models(world, ids) == ["m3", "m2", "m1"]  # creation DESC; deleted m4 excluded
    assert _models(world, ids, "name = 'model'") == ["m2", "m1"]
    assert _models(world, ids, "name = 'model' AND params.C = 0.1") == ["m1"]
    assert _models(world, ids, "params.C IN ('1.0', '2.0')") == ["m2"]
    assert _models(world, ids, "params.C != '0.1'") == ["m2"]
    assert _models(world, ids, f"source_run_id = '{world.run['r1']}'") == ["m1"]
    assert _models(world, ids, "status = 'LOGGED_MODEL_READY'") == ["m3", "m1"]
    assert _models(world, ids, "model_type = 'sklearn'") == ["m1"]
    assert _models(world, ids, "creation_time > 150") == ["m3", "m2"]
    assert _models(world, ids, "last_updated_timestamp <= 101") == ["m1"]
    assert _models(world, ids, "tags.framework LIKE 'sk%'") == ["m1"]
    assert _models(world, ids, "tags.framework NOT IN ('torch')") == ["m1"]
    assert _models(world, ids, "metrics.acc > 0.6") == ["m2", "m1"]  # any point matches
    assert _models(world, ids, "metrics.acc < 0.6") == ["m1"]
    assert _models(world, ids, "metrics.acc = 0") == []  # NaN
    assert _models(world, ids, "metrics.acc != 0.7") == ["m3", "m1"]
    train = (DatasetFilter("train"),)
    assert _models(world, ids, "metrics.acc > 0.6", datasets=train) == []
    assert _models(world, ids, "metrics.acc < 0.6", datasets=train) == ["m1"]
    assert _models(world, ids, datasets=(DatasetFilter("test", "dg"),)) == ["m3", "m2", "m1"]
    assert _models(world, ids, datasets=(DatasetFilter("test", "nope"),)) == []


def test_logged_model_order(models: tuple[World, dict[str, str]]) -> None:
    world, ids = models
    assert _models(world, ids, order_by=["metrics.acc DESC"]) == ["m1", "m2", "m3"]  # latest
    assert _models(world, ids, order_by=["metrics.acc ASC"]) == ["m2", "m1", "m3"]  # NaN last
    assert _models(world, ids, order_by=["creation_timestamp ASC"]) == ["m1", "m2", "m3"]
    assert _models(world, ids, order_by=["name DESC"]) == ["m3", "m2", "m1"]
    train = [{"field_name": "metrics.acc", "dataset_name": "train"}]
    assert _models(world, ids, order_objects=train) == ["m1", "m3", "m2"]


# --- registry ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry(migrated_database: Any) -> Iterator[tuple[World, str]]:
    prefix = f"reg-{uuid.uuid4().hex[:10]}"
    models = [
        ("a", 10, {"task": "cls"}),
        ("b", 20, {"mlflow.prompt.is_prompt": "true"}),
        ("c", 30, {"mlflow.prompt.is_prompt": "false", "task": "reg"}),
        ("D", 10, {}),
    ]
    with migrated_database.write() as conn:
        conn.execute(
            sa.insert(_t(tables.RegisteredModel)),
            [
                dict(name=f"{prefix}-{n}", creation_time=t, last_updated_time=t * 2, last_version=2)
                for n, t, _ in models
            ],
        )
        conn.execute(
            sa.insert(_t(tables.RegisteredModelTag)),
            [
                dict(name=f"{prefix}-{n}", key=k, value=v)
                for n, _, tags in models
                for k, v in tags.items()
            ],
        )
        conn.execute(
            sa.insert(_t(tables.ModelVersion)),
            [
                dict(
                    name=f"{prefix}-{n}",
                    version=v,
                    creation_time=v,
                    last_updated_time=10 - v,
                    source=f"models:/{n}{v}",
                    run_id=f"run{v}",
                )
                for n in ("a", "b")
                for v in (1, 2)
            ],
        )
        conn.execute(
            sa.insert(_t(tables.ModelVersionTag)),
            [
                dict(name=f"{prefix}-a", version=1, key="validated", value="true"),
                dict(name=f"{prefix}-b", version=1, key="mlflow.prompt.is_prompt", value="true"),
            ],
        )
    yield World(migrated_database, 0, 0, {}, {}, prefix), prefix


def test_registered_model_search(registry: tuple[World, str]) -> None:
    world, prefix = registry

    def names(filter_string: str, order_by: list[str] | None = None) -> list[str]:
        query = registered_model_search_query(
            parse_filter(f"name LIKE '{prefix}-%' {filter_string}", Target.REGISTERED_MODELS),
            parse_order_by(order_by, Target.REGISTERED_MODELS),
        )
        return [n.removeprefix(f"{prefix}-") for n in world.select(query)]

    client_filter = "AND tag.`mlflow.prompt.is_prompt` != 'true'"
    assert names(client_filter) == ["D", "a", "c"]  # models without the tag included
    assert names("") == ["D", "a", "c"]  # prompts are hidden by default
    assert names("AND tags.`mlflow.prompt.is_prompt` = 'true'") == ["b"]
    assert names(f"AND tags.task != 'cls' {client_filter}") == ["c"]
    assert names(f"AND tags.task = 'cls' {client_filter}") == ["a"]
    assert names(f"AND name IN ('{prefix}-a', '{prefix}-b')") == ["a"]
    assert names("", ["timestamp DESC"]) == ["c", "D", "a"]  # a/D tie: name ASC, binary
    assert names("", ["creation_timestamp DESC", "name DESC"]) == ["c", "a", "D"]


def test_model_version_search(registry: tuple[World, str]) -> None:
    world, prefix = registry

    def versions(filter_string: str, order_by: list[str] | None = None) -> list[tuple[str, int]]:
        query = model_version_search_query(
            parse_filter(f"name LIKE '{prefix}-%' {filter_string}", Target.MODEL_VERSIONS),
            parse_order_by(order_by, Target.MODEL_VERSIONS),
        )
        return [(n.removeprefix(f"{prefix}-"), v) for n, v in world.select(query)]

    assert versions("") == [("a", 1), ("a", 2)]  # last_updated DESC; prompt versions hidden
    assert versions("AND run_id = 'run1'") == [("a", 1)]
    assert versions("AND tags.validated = 'true'") == [("a", 1)]
    assert versions("AND version_number > 1") == [("a", 2)]
    assert versions("AND source_path LIKE 'models:/a%'", ["version_number"]) == [("a", 1), ("a", 2)]
    assert versions("AND tags.`mlflow.prompt.is_prompt` = 'true'") == [("b", 1)]
