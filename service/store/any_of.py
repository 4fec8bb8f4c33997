"""``column IN (ids)`` for loading a page of entities, sent to PostgreSQL as one array.

A page of 100 runs asks seven tables for the same 100 ids. Written as ``IN (...)``, each
query carries 100 bind parameters: SQLAlchemy expands them, psycopg rewrites the long
statement (too long for its cache) and PostgreSQL parses them, about 0.7 ms per query.
``column = ANY(:ids)`` sends one array parameter instead. Other databases keep ``IN``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class _AnyOf(ColumnElement[bool]):
    """``column IN values`` in two spellings; the compiler picks one per database."""

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("listed", InternalTraversal.dp_clauseelement),
        ("array", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], values: Sequence[Any]) -> None:
        values = list(values)
        self.listed = column.in_(values)
        self.array = column == sa.any_(sa.bindparam(None, values, type_=sa.ARRAY(column.type)))


@compiles(_AnyOf)
def _listed(element: _AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.listed, **kw)


@compiles(_AnyOf, "postgresql")
def _array(element: _AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.array, **kw)


def any_of(column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``column`` equals one of ``values`` (false for none), cheap for long id lists."""
    return _AnyOf(column, values)
