"""Traces (MLflow 3 tracing): trace info, tags, metadata, run links, spans, assessments.

Spans keep the OTLP span as proto3 JSON in ``content`` (or, when large, a path in the
artifact store in ``content_ref``) plus the columns search needs: name, type, status;
their attributes (but inputs and outputs) are rows of ``span_attributes`` for search.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0006"
down_revision = "0005"
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


def trace_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["trace_id"], ["traces.trace_id"], ondelete="CASCADE")


def trace_id(*, primary_key: bool = True) -> sa.Column[str]:
    return sa.Column("trace_id", key_string(64), primary_key=primary_key, nullable=False)


def upgrade() -> None:
    op.create_table(
        "traces",
        trace_id(),
        sa.Column(
            "experiment_id",
            sa.Integer(),
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("request_time", sa.BigInteger(), nullable=False),
        sa.Column("execution_duration", sa.BigInteger(), nullable=True),
        sa.Column("state", key_string(20), nullable=False),
        sa.Column("client_request_id", key_string(250), nullable=True),
        sa.Column("request_preview", long_text(), nullable=True),
        sa.Column("response_preview", long_text(), nullable=True),
        sa.Column("finalized", sa.Boolean(), nullable=False),
        sa.Column("deleted_time", sa.BigInteger(), nullable=True),
    )
    op.create_index(
        "ix_traces_experiment_request_time", "traces", ["experiment_id", "request_time"]
    )
    op.create_index("ix_traces_deleted_time", "traces", ["deleted_time"])
    for table in ("trace_tags", "trace_metadata"):
        op.create_table(
            table,
            trace_id(),
            sa.Column("key", key_string(250), primary_key=True, nullable=False),
            sa.Column("value", long_text(), nullable=False),
            trace_fk(),
        )
    op.create_table(
        "trace_runs",
        trace_id(),
        sa.Column("run_id", key_string(32), primary_key=True, nullable=False),
        trace_fk(),
    )
    op.create_index("ix_trace_runs_run_id", "trace_runs", ["run_id", "trace_id"])
    op.create_table(
        "spans",
        trace_id(),
        sa.Column("span_id", key_string(32), primary_key=True, nullable=False),
        sa.Column("parent_span_id", key_string(32), nullable=True),
        sa.Column("name", key_string(500), nullable=False),
        sa.Column("span_type", key_string(100), nullable=False),
        sa.Column("status", key_string(32), nullable=False),
        sa.Column("start_time_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_time_ns", sa.BigInteger(), nullable=True),
        sa.Column("content", long_text(), nullable=True),
        sa.Column("content_ref", key_string(1000), nullable=True),
        trace_fk(),
    )
    op.create_index("ix_spans_name", "spans", ["name", "trace_id"])
    op.create_index("ix_spans_type", "spans", ["span_type", "trace_id"])
    op.create_table(
        "span_attributes",
        trace_id(),
        sa.Column("span_id", key_string(32), primary_key=True, nullable=False),
        sa.Column("key", key_string(250), primary_key=True, nullable=False),
        sa.Column("value", key_string(1000), nullable=False),
        trace_fk(),
    )
    op.create_index("ix_span_attributes_key", "span_attributes", ["key", "trace_id"])
    op.create_table(
        "assessments",
        sa.Column("assessment_id", key_string(64), primary_key=True, nullable=False),
        trace_id(primary_key=False),
        sa.Column("name", key_string(250), nullable=False),
        sa.Column("kind", key_string(20), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("overrides", key_string(64), nullable=True),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.Column("payload", long_text(), nullable=False),
        trace_fk(),
    )
    op.create_index("ix_assessments_trace_id", "assessments", ["trace_id"])


def downgrade() -> None:
    for table in (
        "assessments",
        "span_attributes",
        "spans",
        "trace_runs",
        "trace_metadata",
        "trace_tags",
        "traces",
    ):
        op.drop_table(table)
