"""Access control: users, personal access tokens, experiment and registered-model grants.

Grants name a principal, a username or ``group:<name>``, rather than a user row, so a team
member known only from configuration (a Google account) can be granted access before they
first sign in. Grants follow their resource: deleting an experiment or a registered model
removes its grants, and renaming a model carries them along (ON UPDATE CASCADE).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def key_string(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", key_string(256), nullable=False, unique=True),
        sa.Column("password_hash", key_string(256), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "access_tokens",
        sa.Column("token_id", key_string(32), primary_key=True, nullable=False),
        sa.Column("token_hash", key_string(64), nullable=False, unique=True),
        sa.Column("username", key_string(256), nullable=False),
        sa.Column("name", key_string(256), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("expiry_time", sa.BigInteger(), nullable=False),
        sa.Column("revoked_time", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_access_tokens_username", "access_tokens", ["username"])
    op.create_table(
        "experiment_permissions",
        sa.Column(
            "experiment_id",
            sa.Integer(),
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        ),
        sa.Column("principal", key_string(256), primary_key=True, nullable=False),
        sa.Column("permission", key_string(32), nullable=False),
    )
    op.create_index("ix_experiment_permissions_principal", "experiment_permissions", ["principal"])
    op.create_table(
        "registered_model_permissions",
        sa.Column("name", key_string(256), primary_key=True, nullable=False),
        sa.Column("principal", key_string(256), primary_key=True, nullable=False),
        sa.Column("permission", key_string(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"], ["registered_models.name"], ondelete="CASCADE", onupdate="CASCADE"
        ),
    )
    op.create_index(
        "ix_registered_model_permissions_principal",
        "registered_model_permissions",
        ["principal"],
    )


def downgrade() -> None:
    for table in (
        "registered_model_permissions",
        "experiment_permissions",
        "access_tokens",
        "users",
    ):
        op.drop_table(table)
