"""``any_of``: the same rows as ``IN`` on every backend, one cached statement for any list."""

from __future__ import annotations

import sqlalchemy as sa

from service.store.any_of import any_of
from service.store.tables import Experiment

EXPERIMENTS = Experiment.__table__


def test_any_of_matches_like_in_for_any_list(migrated_database) -> None:
    column = EXPERIMENTS.c.experiment_id
    with migrated_database.read() as conn:
        known = sorted(conn.execute(sa.select(column)).scalars())
        for wanted in ([known[0]], known, [known[0], -1, known[0]], [-1], []):
            found = conn.execute(sa.select(column).where(any_of(column, wanted))).scalars()
            assert sorted(found) == sorted(set(wanted) & set(known))


def test_postgresql_gets_one_array_parameter(migrated_database) -> None:
    query = sa.select(EXPERIMENTS.c.name).where(any_of(EXPERIMENTS.c.experiment_id, [1, 2, 3]))
    sql = str(query.compile(dialect=migrated_database.engine.dialect))
    if migrated_database.dialect == "postgresql":
        assert "= ANY (" in sql
    else:
        assert " IN (" in sql
