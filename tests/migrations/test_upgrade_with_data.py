"""Migrations on populated stores: a team upgrades a database full of its history.

For every earlier revision, on every backend: build the schema of that revision, fill
every table it has (runs, metrics, registry, auth: whatever exists then) with rows that
exercise each column's type, upgrade to head, and read every value back. Then downgrade to
the starting revision and upgrade again: the values are still there. The rows are made
from the reflected schema, so a new migration is covered the day it is added.

And two instances that start at once against an old schema: exactly one migrates, the
other waits for it, and both serve.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory

from service.store import migrate
from service.store.db import Database, create_database
from tests.support.backends import scratch_database
from tests.support.server import ServerProcess

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

ROWS = 3
Rows = dict[str, list[dict[str, Any]]]


def _revisions() -> list[str]:
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
    return sorted(
        script.revision for script in ScriptDirectory.from_config(config).walk_revisions()
    )


EARLIER = _revisions()[:-1]


def _value(column: sa.Column[Any], table: str, index: int) -> Any:
    """A value of the column's type, distinct per row, at the edges of what it holds."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return index % 2 == 0
    if type(kind).__name__ == "TINYINT":  # how MySQL reflects a boolean
        return index % 2
    if isinstance(kind, sa.Integer):
        big = isinstance(kind, sa.BigInteger)
        return (2**62 + index) if big and index == ROWS - 1 else 1_000 + index
    if isinstance(kind, sa.Float | sa.Numeric):
        return [1.5e300, -0.25, 3.0][index % 3]
    if isinstance(kind, sa.LargeBinary):
        return bytes([index, 0, 255]) * 10
    if isinstance(kind, sa.String):
        text = f"{index}-{table}.{column.name}-é✓"
        length = kind.length
        return text if length is None else text[:length]
    raise AssertionError(f"no test value for {table}.{column.name} of type {kind!r}")


def _fill(database: Database) -> Rows:
    """Rows in every table of the current schema, foreign keys pointing at earlier rows."""
    metadata = sa.MetaData()
    metadata.reflect(database.engine)
    written: Rows = {}
    with database.engine.begin() as conn:
        for table in metadata.sorted_tables:
            if table.name == migrate.VERSION_TABLE:
                continue
            rows = []
            for index in range(ROWS):
                row = {c.name: _value(c, table.name, index) for c in table.columns}
                for constraint in table.foreign_key_constraints:
                    parent = written[constraint.referred_table.name][index % ROWS]
                    for element in constraint.elements:
                        row[element.parent.name] = parent[element.column.name]
                rows.append(row)
            conn.execute(table.insert(), rows)
            written[table.name] = rows
    return written


def _read(database: Database, written: Rows) -> Rows:
    """The rows written, as the database holds them now (only the columns written)."""
    metadata = sa.MetaData()
    metadata.reflect(database.engine, only=list(written))
    found: Rows = {}
    with database.engine.connect() as conn:
        for name, rows in written.items():
            table = metadata.tables[name]
            columns = [table.c[column] for column in rows[0]]
            keys = list(table.primary_key.columns) or columns
            wanted = sa.or_(*(sa.and_(*(k == row[k.name] for k in keys)) for row in rows))
            result = conn.execute(sa.select(*columns).where(wanted).order_by(*keys))
            found[name] = [dict(row) for row in result.mappings()]
    return found


def _ordered(written: Rows, database: Database) -> Rows:
    """``written`` sorted as ``_read`` sorts it, floats compared with a relative tolerance."""
    return {name: sorted(rows, key=_sort_key(database, name)) for name, rows in written.items()}


def _sort_key(database: Database, table: str) -> Any:
    keys = sa.inspect(database.engine).get_pk_constraint(table)["constrained_columns"]
    return lambda row: tuple(row[k] for k in keys) if keys else tuple(row.values())


def _assert_same(found: Rows, expected: Rows) -> None:
    assert found.keys() == expected.keys()
    for name in expected:
        assert len(found[name]) == len(expected[name]), name
        for got, want in zip(found[name], expected[name], strict=True):
            for column, value in want.items():
                if isinstance(value, float):
                    assert math.isclose(got[column], value, rel_tol=1e-12), (name, column)
                else:
                    assert got[column] == value, (name, column, got[column], value)


@pytest.fixture
def old_store(backend: str, tmp_path: Path) -> Iterator[tuple[str, Database]]:
    with scratch_database(backend, tmp_path) as url:
        database = create_database(url)
        try:
            yield url, database
        finally:
            database.dispose()


@pytest.mark.parametrize("start", EARLIER)
def test_every_value_survives_upgrade_downgrade_and_upgrade(
    start: str, old_store: tuple[str, Database]
) -> None:
    _, database = old_store
    migrate.upgrade(database, start)
    written = _fill(database)
    expected = _ordered(written, database)

    migrate.upgrade(database)
    assert migrate.current_revision(database) == migrate.head_revision()
    _assert_same(_read(database, written), expected)

    migrate.downgrade(database, start)
    assert migrate.current_revision(database) == start
    _assert_same(_read(database, written), expected)

    migrate.upgrade(database)
    _assert_same(_read(database, written), expected)


def test_two_instances_on_an_old_schema_migrate_once_and_both_serve(
    old_store: tuple[str, Database], tmp_path: Path
) -> None:
    url, database = old_store
    migrate.upgrade(database, EARLIER[0])
    written = _fill(database)
    expected = _ordered(written, database)
    servers = [
        ServerProcess(url, str(tmp_path / "artifacts"), tmp_path / name)
        for name in ("first", "second")
    ]
    for server in servers:
        server.workdir.mkdir()
    try:
        # Both processes start before either is healthy: they race for the migration.
        for server in servers:
            server.start_process()
        for server in servers:
            server.wait_healthy(timeout=120)
        for server in servers:
            answer = httpx.post(
                f"{server.url}/api/2.0/mlflow/experiments/search",
                json={"max_results": 10},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
    finally:
        for server in servers:
            server.stop()
    logs = [server.log_path.read_text() for server in servers]
    migrated = [log.count("Applying database migrations") for log in logs]
    assert sorted(migrated) == [0, 1], logs
    assert migrate.current_revision(database) == migrate.head_revision()
    _assert_same(_read(database, written), expected)
