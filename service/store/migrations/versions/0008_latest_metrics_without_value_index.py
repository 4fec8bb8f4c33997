"""PostgreSQL drops ``ix_latest_metrics_key_value``, which its planner misused without statistics.

On a PostgreSQL database not yet analysed (after a bulk load or ``stratus import``, before
autovacuum), every row estimate is a row or two, and the planner chose this index for a
run's latest metric: every ``acc`` row of the database read once per run, 0.9 s for a
search of 1,000 runs. Without it, the only way to a run's metric is the primary key
(``run_uuid``, ``key``), one lookup per run whatever the estimates. With statistics no
search plan of the benchmark used it, and a new latest value no longer has to update it.
SQLite and MariaDB keep it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEX = "ix_latest_metrics_key_value"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(INDEX, table_name="latest_metrics")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(INDEX, "latest_metrics", ["key", "value"])
