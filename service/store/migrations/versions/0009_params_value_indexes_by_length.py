"""PostgreSQL splits ``ix_params_key_value`` in two partial indexes, by the value's length.

``ix_params_key_value`` held ``substr(value, 1, 256)``, and PostgreSQL never answers a
query from an expression index alone: ``params.model = 'm3'`` visited the heap for every
matching param (at 111,000 runs, 10,999 params over 4,639 heap blocks). Values shorter
than 256 characters, nearly all of them, are now indexed whole, so the same test is an
index-only scan (``ix_params_key_short_value``); longer ones keep the prefix
(``ix_params_key_long_value``). See ``service/store/value_index.py``. After migrating,
``statistics.analyse`` vacuums ``params``, so that its visibility map lets the new index
answer alone at once. SQLite and MySQL/MariaDB keep their index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD = "ix_params_key_value"
SHORT = "ix_params_key_short_value"
LONG = "ix_params_key_long_value"
PREFIX_LENGTH = 256


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        SHORT,
        "params",
        ["key", "value", "run_uuid"],
        postgresql_where=sa.text(f"length(value) < {PREFIX_LENGTH}"),
    )
    op.create_index(
        LONG,
        "params",
        ["key", sa.text(f"substr(value, 1, {PREFIX_LENGTH})"), "run_uuid"],
        postgresql_where=sa.text(f"length(value) >= {PREFIX_LENGTH}"),
    )
    op.drop_index(OLD, table_name="params")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    value = sa.text(f"substr(value, 1, {PREFIX_LENGTH})")
    op.create_index(OLD, "params", ["key", value, "run_uuid"])
    op.drop_index(LONG, table_name="params")
    op.drop_index(SHORT, table_name="params")
