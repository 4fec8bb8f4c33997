"""SQL building blocks shared by the search compilers (runs, experiments, models, registry).

Correlated subqueries here reference the parent table's columns, so SQLAlchemy correlates
them with the enclosing SELECT automatically.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from service.store.entities.tracking import ViewType
from service.store.search.nodes import Op, Value
from service.store.value_index import any_length, value_in

#: ``LIKE``/``ILIKE`` escape character on every backend (SQLite has none by default).
LIKE_ESCAPE = "\\"


def compare(column: ColumnElement[Any], op: Op, value: Value) -> ColumnElement[bool]:
    """``column op value`` for every operator except IS [NOT] NULL (a row-existence test)."""
    if op is Op.EQ:
        return column == value
    if op is Op.NE:
        return column != value
    if op is Op.LT:
        return column < value
    if op is Op.LE:
        return column <= value
    if op is Op.GT:
        return column > value
    if op is Op.GE:
        return column >= value
    if op is Op.LIKE:
        return column.like(value, escape=LIKE_ESCAPE)
    if op is Op.ILIKE:
        return column.ilike(value, escape=LIKE_ESCAPE)
    if op is Op.IN:
        return column.in_(cast(tuple[Any, ...], value))
    if op is Op.NOT_IN:
        return column.not_in(cast(tuple[Any, ...], value))
    raise AssertionError(f"{op} is not a value comparison")


def key_value_exists(
    child: sa.Table | sa.Alias,
    link: Sequence[tuple[ColumnElement[Any], ColumnElement[Any]]],
    key: str,
    op: Op,
    value: Value,
    *extra: ColumnElement[bool],
) -> ColumnElement[bool]:
    """Whether the parent has a ``child`` row for ``key`` (whose value satisfies ``op``).

    ``link`` pairs child and parent columns; ``extra`` adds conditions on the child row.
    """
    where = [c == p for c, p in link] + [child.c.key == key, *extra]
    if op is Op.IS_NULL:
        return ~sa.exists().where(*where)
    if op is not Op.IS_NOT_NULL:
        where.append(compare(child.c.value, op, value))
    return sa.exists().where(*where)


def key_value_in(
    parent: ColumnElement[Any],
    child: sa.Table,
    child_link: ColumnElement[Any],
    key: str,
    values: Sequence[str],
    *,
    hashed: bool = False,
) -> ColumnElement[bool]:
    """``parent IN (SELECT child_link ... WHERE key = key AND value IN values)``.

    The same matches as :func:`key_value_exists` with ``=``/``IN`` when ``child`` has one
    row per (parent, key), but the database can start from the matching child rows through
    the child's value index (:mod:`service.store.value_index`) instead of probing every
    parent. Only for tables with that index. ``hashed`` keeps PostgreSQL from planning it
    as a join (:class:`_HashedIn`), for tables it has no statistics of.
    """
    test = parent.in_(
        sa.select(child_link).where(child.c.key == key, value_in(child.c.value, values))
    )
    return _HashedIn(test) if hashed else test


def key_value_hashed(
    parent: ColumnElement[Any],
    child: sa.Table,
    child_link: ColumnElement[Any],
    key: str,
    op: Op,
    value: Value,
) -> ColumnElement[bool]:
    """:func:`key_value_exists` for any operator, as a test PostgreSQL cannot plan as a join.

    ``parent IN (SELECT child_link ... WHERE key = key AND value op value)``, for tables
    with one row per (parent, key) and no planner statistics: an ``EXISTS`` probe of
    ``params`` was planned as a rescan of every ``key`` row per run (``params.lr LIKE
    '0.0%'``, 1,000 runs: 470,000 rows filtered). See :class:`_HashedIn`. Only for tables
    with the value index, which reaches the ``key`` rows (:func:`any_length`).
    """
    where = [child.c.key == key, any_length(child.c.value)]
    if op not in (Op.IS_NULL, Op.IS_NOT_NULL):
        where.append(compare(child.c.value, op, value))
    test = _HashedIn(parent.in_(sa.select(child_link).where(*where)))
    return sa.not_(test) if op is Op.IS_NULL else test


class _HashedIn(ColumnElement[bool]):
    """``x IN (subquery)`` that PostgreSQL runs as a hashed subplan, never as a join.

    PostgreSQL turns an ``IN`` subquery into a semi-join, whose order and method depend on
    row estimates. On tables never analysed every estimate is a row or two, and it chose
    nested loops that read all matching params once per run (0.9 s for 1,000 runs instead
    of 2 ms). Written as ``(false OR x IN (...))``, the planner does not pull the subquery
    up (it only does so for top-level ``AND`` terms) and then simplifies the ``OR`` away,
    leaving a ``hashed SubPlan``: the matching rows are read once into a hash, and each run
    of the experiment is looked up in it. With statistics the join is better (it knows
    how many runs will match; as a filter it guesses half), so this is for tables without
    them. Other databases get the plain ``IN``.
    """

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [("test", InternalTraversal.dp_clauseelement)]

    def __init__(self, test: ColumnElement[bool]) -> None:
        self.test = test


@compiles(_HashedIn)
def _plain_in(element: _HashedIn, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.test, **kw)


@compiles(_HashedIn, "postgresql")
def _hashed_in(element: _HashedIn, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(false OR {compiler.process(element.test, **kw)})"


def metric_matches(metric: sa.Table | sa.Alias, op: Op, value: Value) -> ColumnElement[bool]:
    """A metric row's value comparison; NaN rows (value 0, is_nan) satisfy only ``!=``."""
    if op is Op.NE:
        return sa.or_(compare(metric.c.value, op, value), metric.c.is_nan == sa.true())
    return sa.and_(compare(metric.c.value, op, value), metric.c.is_nan == sa.false())


def order_terms(
    value: ColumnElement[Any], ascending: bool, *, nullable: bool = True
) -> list[ColumnElement[Any]]:
    """Sort terms for ``value`` with NULLs last in both directions (MySQL has no NULLS LAST)."""
    direction = value.asc() if ascending else value.desc()
    if not nullable:
        return [direction]
    return [sa.case((value.is_(None), 1), else_=0), direction]


def lifecycle_condition(column: ColumnElement[Any], view_type: ViewType) -> ColumnElement[bool]:
    """The ``lifecycle_stage`` test for a view type (none at all for ALL)."""
    stages = view_type.stages()
    return column == stages[0] if len(stages) == 1 else sa.true()


def one_of(column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``column = v`` for one value (friendlier to planners), else ``column IN (...)``."""
    if not values:
        return sa.false()
    return column == values[0] if len(values) == 1 else column.in_(list(values))
