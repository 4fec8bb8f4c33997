"""An index on a key/value table's values that fits every backend, and the test that uses it.

A param value can be 8,000 characters, but a PostgreSQL B-tree entry is limited to about
2,700 bytes and MySQL/MariaDB can only index a prefix of a ``TEXT`` column. So the index
holds ``substr(value, 1, 256)`` on PostgreSQL, the prefix ``value(256)`` on MySQL/MariaDB,
and the whole value on SQLite, which has no entry limit and (as of 3.40) reads the table
row for every entry of an expression index (11 ms to count 11,000 matching params, against
0.3 ms with the plain index). With a 250-character key and a 32-character run id, an
entry stays under 2,200 bytes of UTF-8.

:func:`value_in` writes ``value IN (...)`` so that the index serves it: on PostgreSQL it
compares the indexed prefix, and the whole value only when a wanted value is at least
:data:`PREFIX_LENGTH` characters long (a prefix shorter than that *is* the value). Adding
the whole-value test for short values too would double-count the condition in the
planner's estimates and lead it away from the index. MySQL uses a prefix index for a
plain comparison of the column by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

#: Characters of a value that the PostgreSQL and MySQL indexes hold.
PREFIX_LENGTH = 256


class IndexedValue(ColumnElement[str]):
    """What the value index holds of ``column``: the expression or prefix, per backend.

    On MySQL this renders as the prefix key part ``value(256)``, valid only in an index
    definition; queries reach that index through :func:`value_in`.
    """

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[str]) -> None:
        self.column = column
        self.type = column.type


@compiles(IndexedValue)
def _whole_value(element: IndexedValue, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(IndexedValue, "postgresql")
def _substr(element: IndexedValue, compiler: SQLCompiler, **kw: Any) -> str:
    return f"substr({compiler.process(element.column, **kw)}, 1, {PREFIX_LENGTH})"


@compiles(IndexedValue, "mysql")
@compiles(IndexedValue, "mariadb")
def _prefix_key_part(element: IndexedValue, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)}({PREFIX_LENGTH})"


class _ValueIn(ColumnElement[bool]):
    """``column IN values`` in two spellings: exact, and through the PostgreSQL prefix."""

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("exact", InternalTraversal.dp_clauseelement),
        ("prefixed", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[str], values: Sequence[str]) -> None:
        self.exact = _one_of(column, values)
        prefixed = _one_of(IndexedValue(column), [v[:PREFIX_LENGTH] for v in values])
        if any(len(v) >= PREFIX_LENGTH for v in values):
            prefixed = sa.and_(prefixed, self.exact).self_group()
        self.prefixed = prefixed


@compiles(_ValueIn)
def _exact(element: _ValueIn, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.exact, **kw)


@compiles(_ValueIn, "postgresql")
def _prefixed(element: _ValueIn, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.prefixed, **kw)


def value_in(column: ColumnElement[str], values: Sequence[str]) -> ColumnElement[bool]:
    """``column`` equals one of ``values`` (at least one), in a form the value index serves."""
    return _ValueIn(column, values)


def _one_of(column: ColumnElement[str], values: Sequence[str]) -> ColumnElement[bool]:
    return column == values[0] if len(values) == 1 else column.in_(list(dict.fromkeys(values)))
