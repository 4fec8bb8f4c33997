"""Browser sessions are recorded, and tokens remember the token that created them.

The session cookie carries only a signed session id; ``browser_sessions`` says whose it is
and whether it has been revoked, so signing out ends it on every instance. A token created
by a request authenticated with another token (directly, or through a session opened with
it) names that parent in ``access_tokens.parent_token_id``: revoking the parent revokes it.

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
    with op.batch_alter_table("access_tokens") as batch:
        batch.add_column(sa.Column("parent_token_id", key_string(32), nullable=True))
        batch.create_index("ix_access_tokens_parent_token_id", ["parent_token_id"])


def downgrade() -> None:
    with op.batch_alter_table("access_tokens") as batch:
        batch.drop_index("ix_access_tokens_parent_token_id")
        batch.drop_column("parent_token_id")
    op.drop_table("browser_sessions")
