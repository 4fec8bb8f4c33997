"""Tags and params merged into what the target already holds (both halves of an import)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.store.entities.common import KeyValue


def last_wins(items: Sequence[KeyValue]) -> list[KeyValue]:
    return list({item.key: item for item in items}.values())


def insert_missing(
    conn: Connection,
    table: sa.Table,
    owner_column: str,
    owner: int | str,
    items: Sequence[KeyValue],
) -> dict[str, str]:
    """Insert the items whose key the target lacks; its own values win on a merge.

    Returns what the target held before.
    """
    column = table.c[owner_column]
    existing = dict(
        conn.execute(sa.select(table.c.key, table.c.value).where(column == owner)).all()
    )
    fresh = [
        {owner_column: owner, "key": item.key, "value": item.value}
        for item in last_wins(items)
        if item.key not in existing
    ]
    if fresh:
        conn.execute(sa.insert(table), fresh)
    return existing


def insert_params(
    conn: Connection, table: sa.Table, owner_column: str, owner: str, items: Sequence[KeyValue]
) -> list[str]:
    """Insert missing params; a param the target holds with another value is reported."""
    existing = insert_missing(conn, table, owner_column, owner, items)
    return [
        f"param '{p.key}' of {owner} kept its target value {existing[p.key]!r} "
        f"(the source has {p.value!r})"
        for p in last_wins(items)
        if p.key in existing and existing[p.key] != p.value
    ]
