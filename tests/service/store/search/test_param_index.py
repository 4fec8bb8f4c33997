"""Param ``=``/``IN`` through the params value index, on SQLite, PostgreSQL and MariaDB.

PostgreSQL and MariaDB index only the first ``PREFIX_LENGTH`` characters of a value, so the
cases here are values that agree on that prefix and differ after it, values right at the
boundary, multi-byte characters across it, and values that only look like patterns.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from service.store import tables
from service.store.entities.tracking import ViewType
from service.store.search import Target, parse_filter, run_search_query
from service.store.value_index import PREFIX_LENGTH, value_in

N = PREFIX_LENGTH
LONG_A = "x" * N + "a"
LONG_B = "x" * N + "b"
AT_LIMIT = "x" * N  # exactly as long as the prefix: the prefix alone does not decide
BELOW_LIMIT = "x" * (N - 1)
WIDE = "ü" * (N - 1) + "😀" + "end"  # multi-byte characters on both sides of the boundary
WIDE_OTHER = "ü" * (N - 1) + "😀" + "END"

#: run name -> value of its ``p`` param (None: the run has no ``p``).
VALUES: dict[str, str | None] = {
    "long_a": LONG_A,
    "long_b": LONG_B,
    "at_limit": AT_LIMIT,
    "below_limit": BELOW_LIMIT,
    "wide": WIDE,
    "wide_other": WIDE_OTHER,
    "percent": "50%",
    "five_hundred": "500",
    "underscore": "a_c",
    "abc": "abc",
    "empty": "",
    "missing": None,
}


class Runs:
    def __init__(self, db: Any, experiment_id: int, name_of: dict[str, str]) -> None:
        self.db = db
        self.experiment_id = experiment_id
        self.name_of = name_of

    def matching(self, filter_string: str) -> set[str]:
        query = run_search_query(
            [self.experiment_id], ViewType.ACTIVE_ONLY, parse_filter(filter_string, Target.RUNS)
        )
        with self.db.read() as conn:
            return {self.name_of[row[0]] for row in conn.execute(query)}


def _t(model: Any) -> sa.Table:
    return model.__table__


@pytest.fixture(scope="module")
def runs(migrated_database: Any) -> Iterator[Runs]:
    ids = {name: uuid.uuid4().hex for name in VALUES}
    with migrated_database.write() as conn:
        experiment_id = conn.execute(
            sa.insert(_t(tables.Experiment)).values(
                name=f"param-index-{uuid.uuid4().hex[:10]}",
                artifact_location="mem:/",
                lifecycle_stage="active",
                creation_time=1,
                last_update_time=1,
            )
        ).inserted_primary_key[0]
        conn.execute(
            sa.insert(_t(tables.Run)),
            [
                dict(
                    run_uuid=run_id,
                    experiment_id=experiment_id,
                    name=name,
                    start_time=i,
                    lifecycle_stage="active",
                    artifact_uri="mem:/",
                )
                for i, (name, run_id) in enumerate(ids.items())
            ],
        )
        conn.execute(
            sa.insert(_t(tables.Param)),
            [
                dict(run_uuid=ids[name], key=key, value=value)
                for name, value in VALUES.items()
                if value is not None
                for key, value in (("p", value), ("other", "x"))
            ]
            + [dict(run_uuid=ids["missing"], key="other", value="x")],
        )
    yield Runs(migrated_database, experiment_id, {v: k for k, v in ids.items()})


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (f"params.p = '{LONG_A}'", {"long_a"}),
        (f"params.p = '{LONG_B}'", {"long_b"}),
        (f"params.p = '{AT_LIMIT}'", {"at_limit"}),
        (f"params.p = '{BELOW_LIMIT}'", {"below_limit"}),
        (f"params.p = '{'x' * (N + 1)}'", set()),  # same prefix as LONG_A/LONG_B, no run
        (f"params.p = '{WIDE}'", {"wide"}),
        (f"params.p = '{WIDE[:N]}'", set()),  # a prefix of a stored value is not a match
        (f"params.p IN ('{LONG_A}', '{LONG_B}')", {"long_a", "long_b"}),
        (f"params.p IN ('{LONG_A}', 'abc')", {"long_a", "abc"}),
        (f"params.p IN ('{AT_LIMIT}', '{BELOW_LIMIT}', 'nope')", {"at_limit", "below_limit"}),
        (f"params.p IN ('{WIDE_OTHER}', '{LONG_A}', '{LONG_A}')", {"wide_other", "long_a"}),
        # Long and short wanted values together: PostgreSQL tests each kind on its index.
        (
            f"params.p IN ('{LONG_B}', '{BELOW_LIMIT}', 'abc', '', '{WIDE[:N]}', '{AT_LIMIT}')",
            {"long_b", "below_limit", "abc", "empty", "at_limit"},
        ),
        (f"params.p IN ('{WIDE}', '500', '{'x' * (N + 1)}')", {"wide", "five_hundred"}),
        ("params.p IN ('abc', 'abc')", {"abc"}),
        ("params.p = '50%'", {"percent"}),  # = and IN never treat % and _ as wildcards
        ("params.p = '5%'", set()),
        ("params.p = 'a_c'", {"underscore"}),
        ("params.p IN ('a_c', '50%')", {"underscore", "percent"}),
        ("params.p IN ('a%', '_bc')", set()),
        ("params.p = ''", {"empty"}),
        ("params.p = 'x'", set()),  # every run has other = 'x'; the key must match too
        ("params.other = 'x'", set(VALUES)),
        ("params.other = 'x' AND params.p = 'abc'", {"abc"}),
        ("params.missing = 'x'", set()),
        ("params.missing IN ('x', '')", set()),
    ],
)
def test_equality_and_in(runs: Runs, filter_string: str, expected: set[str]) -> None:
    assert runs.matching(filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        # Unchanged semantics of the other operators next to the new ones.
        (f"params.p != '{LONG_A}'", set(VALUES) - {"long_a", "missing"}),
        (f"params.p NOT IN ('{LONG_A}', 'abc')", set(VALUES) - {"long_a", "abc", "missing"}),
        ("params.p LIKE '50\\%'", {"percent"}),
        ("params.p LIKE '5%'", {"percent", "five_hundred"}),
        (f"params.p LIKE '{'x' * N}_'", {"long_a", "long_b"}),
        ("params.p IS NULL", {"missing"}),
        ("params.p = 'abc' AND params.p IS NOT NULL", {"abc"}),
    ],
)
def test_other_operators(runs: Runs, filter_string: str, expected: set[str]) -> None:
    assert runs.matching(filter_string) == expected


def test_the_index_can_serve_value_in(migrated_database: Any) -> None:
    """The value test is written so the database can use its value index (indexes) at all."""
    params = _t(tables.Param)
    for values in (["abc"], [LONG_A], ["abc", LONG_A]):
        query = sa.select(params.c.run_uuid).where(
            params.c.key == "p", value_in(params.c.value, values)
        )
        with migrated_database.engine.connect() as conn:  # a transaction, for SET LOCAL
            sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
            dialect = conn.dialect.name
            if dialect == "postgresql":
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                plan = conn.exec_driver_sql("EXPLAIN " + sql.replace("%", "%%")).all()
            elif dialect == "mysql":
                forced = sql.replace("FROM params", "FROM params FORCE INDEX (ix_params_key_value)")
                plan = conn.exec_driver_sql("EXPLAIN " + forced.replace("%", "%%")).all()
            else:
                plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
        rows = " ".join(str(row) for row in plan)
        if dialect != "postgresql":
            assert "ix_params_key_value" in rows, rows
            continue
        # Short values from the index of whole values, long ones from the prefix index. (A
        # mix is read from both once the table is larger than these few rows, where a scan
        # of the primary key costs as little: test_index_only_plan.py.)
        if len(values) == 1:
            wanted = (
                "ix_params_key_short_value" if values == ["abc"] else "ix_params_key_long_value"
            )
            assert wanted in rows, rows
