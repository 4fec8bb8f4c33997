"""Indexes for run search by param value.

``ix_params_key_value`` lets a search such as ``params.model = 'm3'`` start from the
matching params. A value can be longer than PostgreSQL and MySQL can index, so those two
hold only its first 256 characters: ``substr(value, 1, 256)`` on PostgreSQL, the prefix
``value(256)`` on MySQL/MariaDB; SQLite indexes the whole value. PostgreSQL gathers
statistics for an expression only when the table is analysed, so the upgrade analyses
``params``.

``ix_runs_run_uuid_experiment_lifecycle_start`` is for SQLite only, where ``runs`` is a
rowid table: it answers a run's experiment, stage and start time by id from one index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PARAMS_INDEX = "ix_params_key_value"
RUNS_INDEX = "ix_runs_run_uuid_experiment_lifecycle_start"
PREFIX_LENGTH = 256


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        value = sa.text(f"substr(value, 1, {PREFIX_LENGTH})")
        op.create_index(PARAMS_INDEX, "params", ["key", value, "run_uuid"])
        op.execute("ANALYZE params")
    elif dialect in ("mysql", "mariadb"):
        length = {"value": PREFIX_LENGTH}
        op.create_index(
            PARAMS_INDEX,
            "params",
            ["key", "value", "run_uuid"],
            mysql_length=length,
            mariadb_length=length,
        )
    else:
        op.create_index(PARAMS_INDEX, "params", ["key", "value", "run_uuid"])
        op.create_index(
            RUNS_INDEX, "runs", ["run_uuid", "experiment_id", "lifecycle_stage", "start_time"]
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index(RUNS_INDEX, table_name="runs")
    op.drop_index(PARAMS_INDEX, table_name="params")
