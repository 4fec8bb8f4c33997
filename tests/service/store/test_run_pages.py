"""A page of runs costs two statements on every database, whatever its size: the run rows,
then their params, tags, latest metrics, inputs and outputs together, each in its order."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from service.store import Store
from service.store.entities.common import KeyValue
from service.store.entities.tracking import (
    Dataset,
    DatasetInput,
    MetricPoint,
    ModelOutput,
    ViewType,
)


@pytest.fixture
def statements(store: Store) -> Iterator[list[str]]:
    """Every statement the engine sends, but transaction control."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE"):
            seen.append(statement)

    sa.event.listen(store.db.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(store.db.engine, "before_cursor_execute", record)


def _run(store: Store, experiment_id: int, index: int) -> str:
    run_id = store.runs.create(
        experiment_id=experiment_id,
        user_id="u",
        start_time=1_700_000_000_000 + index,
        run_name=f"r{index}",
        tags=[KeyValue("zeta", str(index)), KeyValue("alpha", "a")],
    ).info.run_id
    store.runs.log_batch(
        run_id,
        metrics=[
            ("loss", 0.5 + index, 10, 3, None, None, None),
            ("acc", math.nan, 11, 4, None, "train", "d1"),
            ("big", math.inf, 12, 2**40, None, None, None),
            ("whole", 2.0, 2**41, 0, None, None, None),
        ],
        params=[KeyValue("lr", "0.1"), KeyValue("batch", str(index))],
    )
    return run_id


def test_runs_load_in_two_statements(store: Store, statements: list[str]) -> None:
    experiment_id = store.experiments.create(f"pages-{uuid.uuid4().hex[:10]}")
    ids = [_run(store, experiment_id, i) for i in range(3)]
    model = store.logged_models.create(
        experiment_id=experiment_id,
        name="m",
        model_type=None,
        source_run_id=ids[2],
        params=[],
        tags=[],
    )
    store.runs.log_inputs(
        ids[2],
        [
            DatasetInput(
                Dataset("train", "d1", "local", "/data/t", '{"s": 1}', None),
                [KeyValue("mlflow.data.context", "training"), KeyValue("b", "2")],
            ),
            DatasetInput(Dataset("eval", "d2", "local", "/data/e"), []),
        ],
        [model.model_id],
    )
    store.runs.log_outputs(ids[2], [ModelOutput(model.model_id, 7)])

    for page_size in (3, 2, 3):  # statements are cached per page size
        statements.clear()
        loaded = store.runs.get_many(ids[:page_size])
        assert len(statements) == 2, statements
        assert [r.info.run_id for r in loaded] == ids[:page_size]
    page = store.runs.search(
        experiment_ids=[experiment_id],
        filter_string=None,
        view_type=ViewType.ACTIVE_ONLY,
        max_results=3,
        order_by=[],
        page_token=None,
    )
    assert page.items == loaded[::-1]

    statements.clear()
    newest = store.runs.get(ids[2])
    assert len(statements) == 2, statements
    assert newest == page.items[0]
    assert newest.info.run_name == "r2" and newest.info.start_time == 1_700_000_000_002
    assert [t.key for t in newest.tags] == ["alpha", "mlflow.runName", "zeta"]
    assert newest.params == [KeyValue("batch", "2"), KeyValue("lr", "0.1")]
    acc, big, loss, whole = newest.metrics
    assert [acc.key, big.key, loss.key, whole.key] == ["acc", "big", "loss", "whole"]
    assert math.isnan(acc.value) and (acc.dataset_name, acc.dataset_digest) == ("train", "d1")
    assert big.value == 1.7976931348623157e308 and big.step == 2**40
    assert loss == MetricPoint("loss", 2.5, 10, 3)
    assert type(whole.value) is float and whole.timestamp == 2**41
    assert [(i.dataset.name, i.dataset.schema) for i in newest.dataset_inputs] == [
        ("eval", None),
        ("train", '{"s": 1}'),
    ]
    assert newest.dataset_inputs[1].dataset == Dataset(
        "train", "d1", "local", "/data/t", '{"s": 1}'
    )
    assert newest.dataset_inputs[1].tags == [
        KeyValue("b", "2"),
        KeyValue("mlflow.data.context", "training"),
    ]
    assert newest.model_inputs == [model.model_id]
    assert newest.model_outputs == [ModelOutput(model.model_id, 7)]
    assert page.items[1].dataset_inputs == [] and page.items[1].model_outputs == []
    assert page.items[1].params == [KeyValue("batch", "1"), KeyValue("lr", "0.1")]
    assert store.runs.get_many([ids[0], "0" * 32, ids[1]]) == page.items[:0:-1]


@pytest.mark.needs_backend("postgresql")
def test_postgresql_sessions_start_no_parallel_workers(store: Store) -> None:
    """Two workers made a page of 100 runs of a 111,000-run database cost 15 to 35 ms
    instead of 3 to 5: starting them costs more than the statements (store/db.py)."""
    with store.db.read() as conn:
        workers = conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar()
    assert workers == "0"
