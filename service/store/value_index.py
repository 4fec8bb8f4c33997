"""The indexes on a key/value table's values that fit every backend, and the test that uses them.

A param value can be 8,000 characters, but a PostgreSQL B-tree entry is limited to about
2,700 bytes and MySQL/MariaDB can only index a prefix of a ``TEXT`` column. So:

- SQLite indexes the whole value: it has no entry limit and (as of 3.40) reads the table
  row for every entry of an expression index (11 ms to count 11,000 matching params,
  against 0.3 ms with the plain index).
- MySQL/MariaDB index the prefix ``value(256)``, and use it for a plain comparison of the
  column by itself.
- PostgreSQL has two partial indexes, split at :data:`PREFIX_LENGTH` characters: values
  shorter than that are indexed whole (``WHERE length(value) < 256``), longer ones by
  ``substr(value, 1, 256)`` (``WHERE length(value) >= 256``). PostgreSQL never answers a
  query from an expression index alone, so with one ``substr`` index every matching param
  was a heap visit (10,999 params with ``model = 'm3'`` over 4,639 heap blocks); the
  plain-column index of short values answers ``params.model = 'm3'`` with an index-only
  scan once ``VACUUM`` has set the visibility map (:func:`statistics.analyse`).

With a 250-character key and a 32-character run id, an entry stays under 2,200 bytes of
UTF-8.

:func:`value_in` writes ``value IN (...)`` so that the index serves it. On PostgreSQL a
wanted value shorter than the prefix can only equal a stored value shorter than it, so it
is tested as ``value IN (...) AND length(value) < 256``; a longer one as
``substr(value, 1, 256) IN (...) AND value IN (...) AND length(value) >= 256``; the two
OR-ed when both kinds are wanted. The ``length`` tests are what lets the planner use a
partial index, and the 256 is written into the SQL, not bound, so that it can prove the
index's predicate for a prepared statement too.
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

#: :data:`PREFIX_LENGTH` written into the SQL, never bound (see the module docstring).
_LIMIT = sa.literal_column(str(PREFIX_LENGTH), sa.Integer())


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
    """``column IN values`` in two spellings: exact, and through the PostgreSQL indexes."""

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("exact", InternalTraversal.dp_clauseelement),
        ("by_length", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[str], values: Sequence[str]) -> None:
        self.exact = _one_of(column, values)
        short = [v for v in values if len(v) < PREFIX_LENGTH]
        long = [v for v in values if len(v) >= PREFIX_LENGTH]
        parts: list[ColumnElement[bool]] = []
        if short:
            parts.append(sa.and_(_one_of(column, short), short_value(column)))
        if long:
            prefixes = [v[:PREFIX_LENGTH] for v in long]
            prefixed = _one_of(IndexedValue(column), prefixes)
            parts.append(sa.and_(prefixed, _one_of(column, long), long_value(column)))
        self.by_length = parts[0] if len(parts) == 1 else sa.or_(*parts).self_group()


@compiles(_ValueIn)
def _exact(element: _ValueIn, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.exact, **kw)


@compiles(_ValueIn, "postgresql")
def _split_by_length(element: _ValueIn, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.by_length, **kw)


def value_in(column: ColumnElement[str], values: Sequence[str]) -> ColumnElement[bool]:
    """``column`` equals one of ``values`` (at least one), in a form the value index serves."""
    return _ValueIn(column, values)


class _AnyLength(ColumnElement[bool]):
    """``column IS NOT NULL``; on PostgreSQL spelt as the two indexes' predicates OR-ed."""

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[str]) -> None:
        self.column = column


@compiles(_AnyLength)
def _not_null(element: _AnyLength, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.is_not(None), **kw)


@compiles(_AnyLength, "postgresql")
def _either_length(element: _AnyLength, compiler: SQLCompiler, **kw: Any) -> str:
    either = sa.or_(short_value(element.column), long_value(element.column)).self_group()
    return compiler.process(either, **kw)


def any_length(column: ColumnElement[str]) -> ColumnElement[bool]:
    """A test every stored value passes, through which PostgreSQL reaches a key's rows.

    Neither PostgreSQL index serves ``key = 'lr'`` alone (each holds only the values of
    one length), but with this test beside it the planner can read both and combine them
    (a ``BitmapOr``), for a value test no index answers, such as ``LIKE``.
    """
    return _AnyLength(column)


def short_value(column: ColumnElement[str]) -> ColumnElement[bool]:
    """The predicate of the PostgreSQL index of whole (short) values."""
    return sa.func.length(column) < _LIMIT


def long_value(column: ColumnElement[str]) -> ColumnElement[bool]:
    """The predicate of the PostgreSQL index of long values' prefixes."""
    return sa.func.length(column) >= _LIMIT


def _one_of(column: ColumnElement[str], values: Sequence[str]) -> ColumnElement[bool]:
    values = list(dict.fromkeys(values))
    return column == values[0] if len(values) == 1 else column.in_(values)
