"""Model registry: registered models, versions, their tags, and aliases.

Children reference ``registered_models.name`` with ON UPDATE CASCADE, so a rename is one
UPDATE of the parent row; ON DELETE CASCADE makes deleting a model remove everything under it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def key_string(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def long_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(
        mysql.MEDIUMTEXT(charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def model_name() -> sa.Column[str]:
    return sa.Column("name", key_string(256), primary_key=True, nullable=False)


def version_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        model_name(),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("description", long_text(), nullable=True),
        sa.Column("last_version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "registered_model_tags",
        model_name(),
        sa.Column("key", key_string(250), primary_key=True, nullable=False),
        sa.Column("value", long_text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"], ["registered_models.name"], ondelete="CASCADE", onupdate="CASCADE"
        ),
    )
    op.create_table(
        "model_versions",
        model_name(),
        sa.Column("version", sa.Integer(), primary_key=True, nullable=False, autoincrement=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("description", long_text(), nullable=True),
        sa.Column("user_id", key_string(256), nullable=True),
        sa.Column("current_stage", key_string(20), nullable=False),
        sa.Column("source", long_text(), nullable=False),
        sa.Column("run_id", key_string(32), nullable=True),
        sa.Column("run_link", long_text(), nullable=True),
        sa.Column("status", key_string(20), nullable=False),
        sa.Column("status_message", long_text(), nullable=True),
        sa.Column("storage_location", long_text(), nullable=True),
        sa.Column("model_id", key_string(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["name"], ["registered_models.name"], ondelete="CASCADE", onupdate="CASCADE"
        ),
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_index("ix_model_versions_model_id", "model_versions", ["model_id"])
    op.create_table(
        "model_version_tags",
        model_name(),
        sa.Column("version", sa.Integer(), primary_key=True, nullable=False, autoincrement=False),
        sa.Column("key", key_string(250), primary_key=True, nullable=False),
        sa.Column("value", long_text(), nullable=False),
        version_fk(),
    )
    op.create_table(
        "registered_model_aliases",
        model_name(),
        sa.Column("alias", key_string(256), primary_key=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        version_fk(),
    )
    op.create_index(
        "ix_registered_model_aliases_version", "registered_model_aliases", ["name", "version"]
    )


def downgrade() -> None:
    for table in (
        "registered_model_aliases",
        "model_version_tags",
        "model_versions",
        "registered_model_tags",
        "registered_models",
    ):
        op.drop_table(table)
