"""Key/value child tables (tags and params of experiments, runs and logged models).

Each such table has an owner column, ``key`` and ``value``; these two helpers are the
only code that reads and overwrites them in bulk.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.store.any_of import any_of
from service.store.entities.common import KeyValue


def load(
    conn: Connection, table: sa.Table, owner: str, owner_ids: Sequence[object]
) -> dict[object, list[KeyValue]]:
    """``owner id -> [KeyValue]`` for ``owner_ids``, keys in order, in one query."""
    result: dict[object, list[KeyValue]] = {}
    query = (
        sa.select(table.c[owner], table.c.key, table.c.value)
        .where(any_of(table.c[owner], owner_ids))
        .order_by(table.c[owner], table.c.key)
    )
    for owner_id, key, value in conn.execute(query):
        result.setdefault(owner_id, []).append(KeyValue(key, value))
    return result


def put(
    conn: Connection, table: sa.Table, owner: str, owner_id: object, items: Sequence[KeyValue]
) -> dict[str, str]:
    """Insert or overwrite ``items``; the last value for a key wins. Returns what was written."""
    latest = {item.key: item.value for item in items}
    if latest:
        conn.execute(
            sa.delete(table).where(table.c[owner] == owner_id, table.c.key.in_(list(latest)))
        )
        conn.execute(
            sa.insert(table),
            [{owner: owner_id, "key": k, "value": v} for k, v in latest.items()],
        )
    return latest
