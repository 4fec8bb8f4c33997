"""Tags and params merged into what the target already holds (both halves of an import)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.store.entities import KeyValue


def last_wins(items: Sequence[KeyValue]) -> list[KeyValue]:
    return list({item.key: item for item in items}.values())


def insert_missing_tags(
    conn: Connection, table: sa.Table, owner_column: str, owner: int | str, tags: list[KeyValue]
) -> None:
    """Tags the target does not have yet; its own values win on a merge."""
    column = table.c[owner_column]
    present = set(conn.execute(sa.select(table.c.key).where(column == owner)).scalars())
    fresh = [
        {owner_column: owner, "key": t.key, "value": t.value}
        for t in last_wins(tags)
        if t.key not in present
    ]
    if fresh:
        conn.execute(sa.insert(table), fresh)


def insert_params(
    conn: Connection, table: sa.Table, owner_column: str, owner: str, items: Sequence[KeyValue]
) -> list[str]:
    """Insert missing params; a param the target holds with another value is reported."""
    existing = dict(
        conn.execute(sa.select(table.c.key, table.c.value).where(table.c[owner_column] == owner))
        .tuples()
        .all()
    )
    notes = [
        f"param '{p.key}' of {owner} kept its target value {existing[p.key]!r} "
        f"(the source has {p.value!r})"
        for p in last_wins(items)
        if p.key in existing and existing[p.key] != p.value
    ]
    fresh = [
        {owner_column: owner, "key": p.key, "value": p.value}
        for p in last_wins(items)
        if p.key not in existing
    ]
    if fresh:
        conn.execute(sa.insert(table), fresh)
    return notes
