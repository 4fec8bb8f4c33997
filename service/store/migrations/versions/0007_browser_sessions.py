"""Browser sessions are recorded, so signing out ends them on every instance.

The session cookie carries only a signed session id; this table says whose it is and
whether it has been revoked (by signing out, or with the access token it was opened with).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def key_string(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def upgrade() -> None:
    op.create_table(
        "browser_sessions",
        sa.Column("session_id", key_string(64), primary_key=True, nullable=False),
        sa.Column("username", key_string(256), nullable=False),
        sa.Column("via", key_string(32), nullable=False),
        sa.Column("token_id", key_string(32), nullable=True),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("expiry_time", sa.BigInteger(), nullable=False),
        sa.Column("revoked_time", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_browser_sessions_username", "browser_sessions", ["username"])


def downgrade() -> None:
    op.drop_table("browser_sessions")
