"""Tracking: experiments, runs, params, tags, metrics, datasets, logged models.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
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


def run_fk() -> sa.Column[str]:
    return sa.Column(
        "run_uuid",
        key_string(32),
        sa.ForeignKey("runs.run_uuid", ondelete="CASCADE"),
        primary_key=True,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", key_string(500), nullable=False, unique=True),
        sa.Column("artifact_location", key_string(1000), nullable=False),
        sa.Column("lifecycle_stage", key_string(20), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.Column("deleted_time", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "experiment_tags",
        sa.Column(
            "experiment_id",
            sa.Integer(),
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        ),
        sa.Column("key", key_string(250), primary_key=True, nullable=False),
        sa.Column("value", long_text(), nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("run_uuid", key_string(32), primary_key=True, nullable=False),
        sa.Column(
            "experiment_id",
            sa.Integer(),
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", key_string(500), nullable=False),
        sa.Column("user_id", key_string(256), nullable=False),
        sa.Column("status", key_string(20), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("end_time", sa.BigInteger(), nullable=True),
        sa.Column("lifecycle_stage", key_string(20), nullable=False),
        sa.Column("artifact_uri", key_string(1000), nullable=False),
        sa.Column("deleted_time", sa.BigInteger(), nullable=True),
    )
    op.create_index(
        "ix_runs_experiment_lifecycle_start",
        "runs",
        ["experiment_id", "lifecycle_stage", "start_time"],
    )
    op.create_index("ix_runs_deleted_time", "runs", ["deleted_time"])
    for table in ("params", "run_tags"):
        op.create_table(
            table,
            run_fk(),
            sa.Column("key", key_string(250), primary_key=True, nullable=False),
            sa.Column("value", long_text(), nullable=False),
            sqlite_with_rowid=False,
        )
    op.create_table(
        "metrics",
        run_fk(),
        sa.Column("key", key_string(250), primary_key=True, nullable=False),
        sa.Column("step", sa.BigInteger(), primary_key=True, nullable=False),
        sa.Column("timestamp", sa.BigInteger(), primary_key=True, nullable=False),
        sa.Column("value", sa.Double(), primary_key=True, nullable=False),
        sa.Column("is_nan", sa.Boolean(), primary_key=True, nullable=False),
        sa.Column("model_id", key_string(64), nullable=True),
        sa.Column("dataset_name", key_string(500), nullable=True),
        sa.Column("dataset_digest", key_string(64), nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_metrics_model_id", "metrics", ["model_id"])
    op.create_table(
        "latest_metrics",
        run_fk(),
        sa.Column("key", key_string(250), primary_key=True, nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("model_id", key_string(64), nullable=True),
        sa.Column("dataset_name", key_string(500), nullable=True),
        sa.Column("dataset_digest", key_string(64), nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])
    op.create_table(
        "datasets",
        sa.Column("dataset_uuid", key_string(32), primary_key=True, nullable=False),
        sa.Column(
            "experiment_id",
            sa.Integer(),
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", key_string(500), nullable=False),
        sa.Column("digest", key_string(64), nullable=False),
        sa.Column("source_type", key_string(64), nullable=False),
        sa.Column("source", long_text(), nullable=False),
        sa.Column("schema", long_text(), nullable=True),
        sa.Column("profile", long_text(), nullable=True),
        sa.UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets"),
    )
    op.create_table(
        "run_inputs",
        run_fk(),
        sa.Column(
            "dataset_uuid",
            key_string(32),
            sa.ForeignKey("datasets.dataset_uuid", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        ),
    )
    op.create_table(
        "run_input_tags",
        sa.Column("run_uuid", key_string(32), primary_key=True, nullable=False),
        sa.Column("dataset_uuid", key_string(32), primary_key=True, nullable=False),
        sa.Column("key", key_string(250), primary_key=True, nullable=False),
        sa.Column("value", long_text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_uuid", "dataset_uuid"],
            ["run_inputs.run_uuid", "run_inputs.dataset_uuid"],
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "run_model_inputs",
        run_fk(),
        sa.Column("model_id", key_string(64), primary_key=True, nullable=False),
    )
    op.create_table(
        "run_model_outputs",
        run_fk(),
        sa.Column("model_id", key_string(64), primary_key=True, nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "logged_models",
        sa.Column("model_id", key_string(64), primary_key=True, nullable=False),
        sa.Column(
            "experiment_id",
            sa.Integer(),
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", key_string(500), nullable=False),
        sa.Column("artifact_location", key_string(1000), nullable=False),
        sa.Column("creation_timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", key_string(32), nullable=False),
        sa.Column("status_message", long_text(), nullable=True),
        sa.Column("model_type", key_string(500), nullable=False),
        sa.Column("source_run_id", key_string(32), nullable=True),
        sa.Column("lifecycle_stage", key_string(20), nullable=False),
        sa.Column("deleted_time", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_logged_models_experiment_name", "logged_models", ["experiment_id", "name"])
    op.create_index("ix_logged_models_source_run", "logged_models", ["source_run_id"])
    for table in ("logged_model_tags", "logged_model_params"):
        op.create_table(
            table,
            sa.Column(
                "model_id",
                key_string(64),
                sa.ForeignKey("logged_models.model_id", ondelete="CASCADE"),
                primary_key=True,
                nullable=False,
            ),
            sa.Column("key", key_string(250), primary_key=True, nullable=False),
            sa.Column("value", long_text(), nullable=False),
        )
    _create_default_experiment()


def _create_default_experiment() -> None:
    """Experiment 0, "Default", which the client uses when none is set."""
    bind = op.get_bind()
    if bind.dialect.name == "mysql":
        # Without this MySQL treats an explicit 0 as "next auto-increment value".
        op.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
    now = int(time.time() * 1000)
    experiments = sa.table(
        "experiments",
        sa.column("experiment_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("artifact_location", sa.String),
        sa.column("lifecycle_stage", sa.String),
        sa.column("creation_time", sa.BigInteger),
        sa.column("last_update_time", sa.BigInteger),
    )
    op.bulk_insert(
        experiments,
        [
            {
                "experiment_id": 0,
                "name": "Default",
                "artifact_location": "mlflow-artifacts:/0",
                "lifecycle_stage": "active",
                "creation_time": now,
                "last_update_time": now,
            }
        ],
    )


def downgrade() -> None:
    for table in (
        "logged_model_params",
        "logged_model_tags",
        "logged_models",
        "run_model_outputs",
        "run_model_inputs",
        "run_input_tags",
        "run_inputs",
        "datasets",
        "latest_metrics",
        "metrics",
        "run_tags",
        "params",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(table)
