"""The database schema, as SQLModel tables.

These classes describe the *current* schema; the migrations in ``migrations/versions``
describe how it got there and never import this module. ``tests/migrations`` checks that
the two agree on every database.

Conventions:

* Timestamps are integer milliseconds since the epoch, as on the wire.
* Strings that are keys or names use a binary collation on MySQL/MariaDB, so ``lr`` and
  ``LR`` are different params there too, and ``LIKE`` is case-sensitive as in MLflow.
* Metric values are stored as doubles; NaN is stored as ``value=0, is_nan=true`` because
  MySQL has no NaN, and ±inf are clamped to ±max double, as MLflow's SQL store does.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlmodel import Field, SQLModel

from service.store.value_index import IndexedValue, long_value, short_value


def key_string(length: int) -> sa.types.TypeEngine[str]:
    """A VARCHAR that compares byte-wise on MySQL/MariaDB (case-sensitive, exact)."""
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def long_text() -> sa.types.TypeEngine[str]:
    """Unbounded text: MEDIUMTEXT on MySQL, where TEXT stops at 64 KiB."""
    return sa.Text().with_variant(
        mysql.MEDIUMTEXT(charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table behind a table model (SQLModel's types do not declare ``__table__``)."""
    table = sa.inspect(model).local_table
    if not isinstance(table, sa.Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


RUN_ID = 32
KEY = 250
NAME = 500
URI = 1000


# --- experiments ---------------------------------------------------------------------


class Experiment(SQLModel, table=True):
    __tablename__ = "experiments"

    experiment_id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=key_string(NAME), unique=True)
    artifact_location: str = Field(sa_type=key_string(URI))
    lifecycle_stage: str = Field(sa_type=key_string(20), default="active")
    creation_time: int = Field(sa_type=sa.BigInteger)
    last_update_time: int = Field(sa_type=sa.BigInteger)
    deleted_time: int | None = Field(default=None, sa_type=sa.BigInteger)


class ExperimentTag(SQLModel, table=True):
    __tablename__ = "experiment_tags"

    experiment_id: int = Field(
        foreign_key="experiments.experiment_id", primary_key=True, ondelete="CASCADE"
    )
    key: str = Field(sa_type=key_string(KEY), primary_key=True)
    value: str = Field(sa_type=long_text())


# --- runs ----------------------------------------------------------------------------


class Run(SQLModel, table=True):
    __tablename__ = "runs"
    __table_args__ = (
        sa.Index(
            "ix_runs_experiment_lifecycle_start", "experiment_id", "lifecycle_stage", "start_time"
        ),
        sa.Index("ix_runs_deleted_time", "deleted_time"),
        # SQLite only. ``runs`` is a rowid table there, so checking a run found by id (a
        # search that starts from matching params) takes two lookups and a row read; this
        # answers "which experiment, which stage, when" from one index. PostgreSQL and
        # MariaDB search no faster with it (measured), so they do without.
        sa.Index(
            "ix_runs_run_uuid_experiment_lifecycle_start",
            "run_uuid",
            "experiment_id",
            "lifecycle_stage",
            "start_time",
        ).ddl_if(dialect="sqlite"),
    )

    run_uuid: str = Field(sa_type=key_string(RUN_ID), primary_key=True)
    experiment_id: int = Field(foreign_key="experiments.experiment_id", ondelete="CASCADE")
    name: str = Field(sa_type=key_string(NAME), default="")
    user_id: str = Field(sa_type=key_string(256), default="")
    status: str = Field(sa_type=key_string(20), default="RUNNING")
    start_time: int = Field(sa_type=sa.BigInteger)
    end_time: int | None = Field(default=None, sa_type=sa.BigInteger)
    lifecycle_stage: str = Field(sa_type=key_string(20), default="active")
    artifact_uri: str = Field(sa_type=key_string(URI), default="")
    deleted_time: int | None = Field(default=None, sa_type=sa.BigInteger)


def _not_postgresql(*_: Any, dialect: sa.Dialect, **__: Any) -> bool:
    return dialect.name != "postgresql"


class Param(SQLModel, table=True):
    __tablename__ = "params"
    __table_args__ = {"sqlite_with_rowid": False}

    run_uuid: str = Field(
        sa_type=key_string(RUN_ID),
        foreign_key="runs.run_uuid",
        primary_key=True,
        ondelete="CASCADE",
    )
    key: str = Field(sa_type=key_string(KEY), primary_key=True)
    value: str = Field(sa_type=long_text())


# Search by param value (``params.x = 'y'``, ``IN``) starts from the matching params:
# one index elsewhere, two partial ones on PostgreSQL (value_index.py, migration 0009).
_params = table_of(Param)
sa.Index(
    "ix_params_key_value", _params.c.key, IndexedValue(_params.c.value), _params.c.run_uuid
).ddl_if(callable_=_not_postgresql)
sa.Index(
    "ix_params_key_short_value",
    _params.c.key,
    _params.c.value,
    _params.c.run_uuid,
    postgresql_where=short_value(_params.c.value),
).ddl_if(dialect="postgresql")
sa.Index(
    "ix_params_key_long_value",
    _params.c.key,
    IndexedValue(_params.c.value),
    _params.c.run_uuid,
    postgresql_where=long_value(_params.c.value),
).ddl_if(dialect="postgresql")


class RunTag(SQLModel, table=True):
    __tablename__ = "run_tags"
    __table_args__ = {"sqlite_with_rowid": False}

    run_uuid: str = Field(
        sa_type=key_string(RUN_ID),
        foreign_key="runs.run_uuid",
        primary_key=True,
        ondelete="CASCADE",
    )
    key: str = Field(sa_type=key_string(KEY), primary_key=True)
    value: str = Field(sa_type=long_text())


class Metric(SQLModel, table=True):
    """Every metric point ever logged. The primary key makes a retried write a no-op."""

    __tablename__ = "metrics"
    __table_args__ = (
        # Partial where the database allows it: nearly every point has no model.
        sa.Index(
            "ix_metrics_model_id",
            "model_id",
            postgresql_where=sa.text("model_id IS NOT NULL"),
            sqlite_where=sa.text("model_id IS NOT NULL"),
        ),
        {"sqlite_with_rowid": False},
    )

    run_uuid: str = Field(
        sa_type=key_string(RUN_ID),
        foreign_key="runs.run_uuid",
        primary_key=True,
        ondelete="CASCADE",
    )
    key: str = Field(sa_type=key_string(KEY), primary_key=True)
    step: int = Field(sa_type=sa.BigInteger, primary_key=True)
    timestamp: int = Field(sa_type=sa.BigInteger, primary_key=True)
    value: float = Field(sa_type=sa.Double, primary_key=True)
    is_nan: bool = Field(primary_key=True, default=False)
    model_id: str | None = Field(default=None, sa_type=key_string(64))
    dataset_name: str | None = Field(default=None, sa_type=key_string(NAME))
    dataset_digest: str | None = Field(default=None, sa_type=key_string(64))


class LatestMetric(SQLModel, table=True):
    """The latest point per (run, key): O(1) reads for run pages and metric search."""

    __tablename__ = "latest_metrics"
    __table_args__ = (
        # Not on PostgreSQL: unanalysed, its planner took it for a run's metric (0008).
        sa.Index("ix_latest_metrics_key_value", "key", "value").ddl_if(callable_=_not_postgresql),
        {"sqlite_with_rowid": False},
    )

    run_uuid: str = Field(
        sa_type=key_string(RUN_ID),
        foreign_key="runs.run_uuid",
        primary_key=True,
        ondelete="CASCADE",
    )
    key: str = Field(sa_type=key_string(KEY), primary_key=True)
    step: int = Field(sa_type=sa.BigInteger)
    timestamp: int = Field(sa_type=sa.BigInteger)
    value: float = Field(sa_type=sa.Double)
    is_nan: bool = False
    model_id: str | None = Field(default=None, sa_type=key_string(64))
    dataset_name: str | None = Field(default=None, sa_type=key_string(NAME))
    dataset_digest: str | None = Field(default=None, sa_type=key_string(64))


# --- datasets and run inputs/outputs ---------------------------------------------------


class Dataset(SQLModel, table=True):
    __tablename__ = "datasets"
    __table_args__ = (sa.UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets"),)

    dataset_uuid: str = Field(sa_type=key_string(RUN_ID), primary_key=True)
    experiment_id: int = Field(foreign_key="experiments.experiment_id", ondelete="CASCADE")
    name: str = Field(sa_type=key_string(NAME))
    digest: str = Field(sa_type=key_string(64))
    source_type: str = Field(sa_type=key_string(64))
    source: str = Field(sa_type=long_text())
    schema_: str | None = Field(
        default=None, sa_column_kwargs={"name": "schema"}, sa_type=long_text()
    )
    profile: str | None = Field(default=None, sa_type=long_text())


class RunInput(SQLModel, table=True):
    __tablename__ = "run_inputs"

    run_uuid: str = Field(
        sa_type=key_string(RUN_ID),
        foreign_key="runs.run_uuid",
        primary_key=True,
        ondelete="CASCADE",
    )
    dataset_uuid: str = Field(
        sa_type=key_string(RUN_ID),
        foreign_key="datasets.dataset_uuid",
        primary_key=True,
        ondelete="CASCADE",
    )


class RunInputTag(SQLModel, table=True):
    __tablename__ = "run_input_tags"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["run_uuid", "dataset_uuid"],
            ["run_inputs.run_uuid", "run_inputs.dataset_uuid"],
            ondelete="CASCADE",
        ),
    )

    run_uuid: str = Field(sa_type=key_string(RUN_ID), primary_key=True)
    dataset_uuid: str = Field(sa_type=key_string(RUN_ID), primary_key=True)
    key: str = Field(sa_type=key_string(KEY), primary_key=True)
    value: str = Field(sa_type=long_text())


class RunModelInput(SQLModel, table=True):
    __tablename__ = "run_model_inputs"

    run_uuid: str = Field(
        sa_type=key_string(RUN_ID),
        foreign_key="runs.run_uuid",
        primary_key=True,
        ondelete="CASCADE",
    )
    model_id: str = Field(sa_type=key_string(64), primary_key=True)


class RunModelOutput(SQLModel, table=True):
    __tablename__ = "run_model_outputs"

    run_uuid: str = Field(
        sa_type=key_string(RUN_ID),
        foreign_key="runs.run_uuid",
        primary_key=True,
        ondelete="CASCADE",
    )
    model_id: str = Field(sa_type=key_string(64), primary_key=True)
    step: int = Field(sa_type=sa.BigInteger, default=0)


# --- logged models (MLflow 3) ----------------------------------------------------------


class LoggedModel(SQLModel, table=True):
    __tablename__ = "logged_models"
    __table_args__ = (
        sa.Index("ix_logged_models_experiment_name", "experiment_id", "name"),
        sa.Index("ix_logged_models_source_run", "source_run_id"),
    )

    model_id: str = Field(sa_type=key_string(64), primary_key=True)
    experiment_id: int = Field(foreign_key="experiments.experiment_id", ondelete="CASCADE")
    name: str = Field(sa_type=key_string(NAME))
    artifact_location: str = Field(sa_type=key_string(URI))
    creation_timestamp_ms: int = Field(sa_type=sa.BigInteger)
    last_updated_timestamp_ms: int = Field(sa_type=sa.BigInteger)
    status: str = Field(sa_type=key_string(32), default="LOGGED_MODEL_PENDING")
    status_message: str | None = Field(default=None, sa_type=long_text())
    model_type: str = Field(sa_type=key_string(NAME), default="")
    source_run_id: str | None = Field(default=None, sa_type=key_string(RUN_ID))
    lifecycle_stage: str = Field(sa_type=key_string(20), default="active")
    deleted_time: int | None = Field(default=None, sa_type=sa.BigInteger)


class LoggedModelTag(SQLModel, table=True):
    __tablename__ = "logged_model_tags"

    model_id: str = Field(
        sa_type=key_string(64),
        foreign_key="logged_models.model_id",
        primary_key=True,
        ondelete="CASCADE",
    )
    key: str = Field(sa_type=key_string(KEY), primary_key=True)
    value: str = Field(sa_type=long_text())


class LoggedModelParam(SQLModel, table=True):
    __tablename__ = "logged_model_params"

    model_id: str = Field(
        sa_type=key_string(64),
        foreign_key="logged_models.model_id",
        primary_key=True,
        ondelete="CASCADE",
    )
    key: str = Field(sa_type=key_string(KEY), primary_key=True)
    value: str = Field(sa_type=long_text())


# --- model registry --------------------------------------------------------------------

MODEL_NAME = 256


def _model_fk() -> sa.ForeignKeyConstraint:
    """Children follow their registered model through renames (ON UPDATE) and deletes."""
    return sa.ForeignKeyConstraint(
        ["name"], ["registered_models.name"], ondelete="CASCADE", onupdate="CASCADE"
    )


def _version_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    )


class RegisteredModel(SQLModel, table=True):
    __tablename__ = "registered_models"

    name: str = Field(sa_type=key_string(MODEL_NAME), primary_key=True)
    creation_time: int = Field(sa_type=sa.BigInteger)
    last_updated_time: int = Field(sa_type=sa.BigInteger)
    description: str | None = Field(default=None, sa_type=long_text())
    #: The highest version number ever assigned; deleted numbers are never reused.
    last_version: int = 0


class RegisteredModelTag(SQLModel, table=True):
    __tablename__ = "registered_model_tags"
    __table_args__ = (_model_fk(),)

    name: str = Field(sa_type=key_string(MODEL_NAME), primary_key=True)
    key: str = Field(sa_type=key_string(KEY), primary_key=True)
    value: str = Field(sa_type=long_text())


class ModelVersion(SQLModel, table=True):
    __tablename__ = "model_versions"
    __table_args__ = (
        _model_fk(),
        sa.Index("ix_model_versions_run_id", "run_id"),
        sa.Index("ix_model_versions_model_id", "model_id"),
    )

    name: str = Field(sa_type=key_string(MODEL_NAME), primary_key=True)
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    creation_time: int = Field(sa_type=sa.BigInteger)
    last_updated_time: int = Field(sa_type=sa.BigInteger)
    description: str | None = Field(default=None, sa_type=long_text())
    user_id: str | None = Field(default=None, sa_type=key_string(256))
    current_stage: str = Field(sa_type=key_string(20), default="None")
    source: str = Field(sa_type=long_text())
    run_id: str | None = Field(default=None, sa_type=key_string(RUN_ID))
    run_link: str | None = Field(default=None, sa_type=long_text())
    status: str = Field(sa_type=key_string(20), default="READY")
    status_message: str | None = Field(default=None, sa_type=long_text())
    storage_location: str | None = Field(default=None, sa_type=long_text())
    model_id: str | None = Field(default=None, sa_type=key_string(64))


class ModelVersionTag(SQLModel, table=True):
    __tablename__ = "model_version_tags"
    __table_args__ = (_version_fk(),)

    name: str = Field(sa_type=key_string(MODEL_NAME), primary_key=True)
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    key: str = Field(sa_type=key_string(KEY), primary_key=True)
    value: str = Field(sa_type=long_text())


class RegisteredModelAlias(SQLModel, table=True):
    """An alias names one version; it goes when that version goes."""

    __tablename__ = "registered_model_aliases"
    __table_args__ = (
        _version_fk(),
        sa.Index("ix_registered_model_aliases_version", "name", "version"),
    )

    name: str = Field(sa_type=key_string(MODEL_NAME), primary_key=True)
    alias: str = Field(sa_type=key_string(MODEL_NAME), primary_key=True)
    version: int


metadata = SQLModel.metadata


# --- access control (service/auth) -----------------------------------------------------

USERNAME = 256


class User(SQLModel, table=True):
    """A known user: password users for basic auth, and anyone an admin registered."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_type=key_string(USERNAME), unique=True)
    #: ``scrypt$n$r$p$salt$hash`` (service/auth/passwords.py); none for Google-only users.
    password_hash: str | None = Field(default=None, sa_type=key_string(256))
    is_admin: bool = False
    creation_time: int = Field(sa_type=sa.BigInteger)


class AccessToken(SQLModel, table=True):
    """A personal access token; only the SHA-256 of the secret is stored."""

    __tablename__ = "access_tokens"
    __table_args__ = (
        sa.Index("ix_access_tokens_username", "username"),
        sa.Index("ix_access_tokens_parent_token_id", "parent_token_id"),
    )

    token_id: str = Field(sa_type=key_string(32), primary_key=True)
    token_hash: str = Field(sa_type=key_string(64), unique=True)
    username: str = Field(sa_type=key_string(USERNAME))
    name: str = Field(sa_type=key_string(256), default="")
    creation_time: int = Field(sa_type=sa.BigInteger)
    expiry_time: int = Field(sa_type=sa.BigInteger)
    revoked_time: int | None = Field(default=None, sa_type=sa.BigInteger)
    #: The token whose request created this one: revoking it revokes this one too.
    parent_token_id: str | None = Field(default=None, sa_type=key_string(32))


class BrowserSession(SQLModel, table=True):
    """A signed-in browser; the cookie holds only the signed ``session_id``."""

    __tablename__ = "browser_sessions"
    __table_args__ = (sa.Index("ix_browser_sessions_username", "username"),)

    session_id: str = Field(sa_type=key_string(64), primary_key=True)
    username: str = Field(sa_type=key_string(USERNAME))
    via: str = Field(sa_type=key_string(32))
    #: The access token the session was opened with: revoking it ends the session.
    token_id: str | None = Field(default=None, sa_type=key_string(32))
    creation_time: int = Field(sa_type=sa.BigInteger)
    expiry_time: int = Field(sa_type=sa.BigInteger)
    revoked_time: int | None = Field(default=None, sa_type=sa.BigInteger)


class ExperimentPermission(SQLModel, table=True):
    """A grant on one experiment to a principal: a username or ``group:<name>``."""

    __tablename__ = "experiment_permissions"
    __table_args__ = (sa.Index("ix_experiment_permissions_principal", "principal"),)

    experiment_id: int = Field(
        foreign_key="experiments.experiment_id", primary_key=True, ondelete="CASCADE"
    )
    principal: str = Field(sa_type=key_string(USERNAME), primary_key=True)
    permission: str = Field(sa_type=key_string(32))


class RegisteredModelPermission(SQLModel, table=True):
    """A grant on one registered model; it follows the model through renames."""

    __tablename__ = "registered_model_permissions"
    __table_args__ = (
        _model_fk(),
        sa.Index("ix_registered_model_permissions_principal", "principal"),
    )

    name: str = Field(sa_type=key_string(MODEL_NAME), primary_key=True)
    principal: str = Field(sa_type=key_string(USERNAME), primary_key=True)
    permission: str = Field(sa_type=key_string(32))


# --- traces (MLflow 3 tracing) -------------------------------------------------------

TRACE_ID = 64
SPAN_ID = 32


def _trace_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["trace_id"], ["traces.trace_id"], ondelete="CASCADE")


class Trace(SQLModel, table=True):
    """One trace (MLflow's TraceInfo). Deleting sets ``deleted_time``; ``stratus gc`` purges.

    ``finalized`` is set once the client's StartTraceV3 arrives; until then the row was
    made from OTLP spans alone, and the root span fills in times, state and previews.
    """

    __tablename__ = "traces"
    __table_args__ = (
        sa.Index("ix_traces_experiment_request_time", "experiment_id", "request_time"),
        sa.Index("ix_traces_deleted_time", "deleted_time"),
    )

    trace_id: str = Field(sa_type=key_string(TRACE_ID), primary_key=True)
    experiment_id: int = Field(foreign_key="experiments.experiment_id", ondelete="CASCADE")
    request_time: int = Field(sa_type=sa.BigInteger)
    execution_duration: int | None = Field(default=None, sa_type=sa.BigInteger)
    state: str = Field(sa_type=key_string(20))
    client_request_id: str | None = Field(default=None, sa_type=key_string(KEY))
    request_preview: str | None = Field(default=None, sa_type=long_text())
    response_preview: str | None = Field(default=None, sa_type=long_text())
    finalized: bool = False
    deleted_time: int | None = Field(default=None, sa_type=sa.BigInteger)


class TraceTag(SQLModel, table=True):
    __tablename__ = "trace_tags"
    __table_args__ = (_trace_fk(),)

    trace_id: str = Field(sa_type=key_string(TRACE_ID), primary_key=True)
    key: str = Field(sa_type=key_string(KEY), primary_key=True)
    value: str = Field(sa_type=long_text())


class TraceMetadata(SQLModel, table=True):
    """MLflow's trace metadata (``request_metadata``): the source run, model id, sizes."""

    __tablename__ = "trace_metadata"
    __table_args__ = (_trace_fk(),)

    trace_id: str = Field(sa_type=key_string(TRACE_ID), primary_key=True)
    key: str = Field(sa_type=key_string(KEY), primary_key=True)
    value: str = Field(sa_type=long_text())


class TraceRun(SQLModel, table=True):
    """A trace linked to a run with ``link_traces_to_run`` (besides its source run)."""

    __tablename__ = "trace_runs"
    __table_args__ = (_trace_fk(), sa.Index("ix_trace_runs_run_id", "run_id", "trace_id"))

    trace_id: str = Field(sa_type=key_string(TRACE_ID), primary_key=True)
    run_id: str = Field(sa_type=key_string(RUN_ID), primary_key=True)


class Span(SQLModel, table=True):
    """One span. ``content`` is the OTLP span as proto3 JSON, exactly as it came in; a
    content too large to keep inline lives in the artifact store at ``content_ref``.

    The searchable columns are copied out of it; ``name`` is cut to its column width
    (the full name stays in the content).
    """

    __tablename__ = "spans"
    __table_args__ = (
        _trace_fk(),
        sa.Index("ix_spans_name", "name", "trace_id"),
        sa.Index("ix_spans_type", "span_type", "trace_id"),
    )

    trace_id: str = Field(sa_type=key_string(TRACE_ID), primary_key=True)
    span_id: str = Field(sa_type=key_string(SPAN_ID), primary_key=True)
    parent_span_id: str | None = Field(default=None, sa_type=key_string(SPAN_ID))
    name: str = Field(sa_type=key_string(NAME), default="")
    span_type: str = Field(sa_type=key_string(100), default="")
    status: str = Field(sa_type=key_string(32), default="")
    start_time_ns: int = Field(sa_type=sa.BigInteger)
    end_time_ns: int | None = Field(default=None, sa_type=sa.BigInteger)
    content: str | None = Field(default=None, sa_type=long_text())
    content_ref: str | None = Field(default=None, sa_type=key_string(URI))


class SpanAttribute(SQLModel, table=True):
    """A span attribute for ``span.attributes.<key>`` filters: strings as they are, other
    values as JSON, cut to the column width. Inputs and outputs are left to the content."""

    __tablename__ = "span_attributes"
    __table_args__ = (_trace_fk(), sa.Index("ix_span_attributes_key", "key", "trace_id"))

    trace_id: str = Field(sa_type=key_string(TRACE_ID), primary_key=True)
    span_id: str = Field(sa_type=key_string(SPAN_ID), primary_key=True)
    key: str = Field(sa_type=key_string(KEY), primary_key=True)
    value: str = Field(sa_type=key_string(URI))


class Assessment(SQLModel, table=True):
    """Feedback or an expectation on a trace. ``payload`` is the assessment's proto3 JSON
    (value, source, rationale, metadata, error); the columns are what queries need."""

    __tablename__ = "assessments"
    __table_args__ = (_trace_fk(), sa.Index("ix_assessments_trace_id", "trace_id"))

    assessment_id: str = Field(sa_type=key_string(64), primary_key=True)
    trace_id: str = Field(sa_type=key_string(TRACE_ID))
    name: str = Field(sa_type=key_string(KEY))
    kind: str = Field(sa_type=key_string(20))
    valid: bool = True
    overrides: str | None = Field(default=None, sa_type=key_string(64))
    create_time: int = Field(sa_type=sa.BigInteger)
    last_update_time: int = Field(sa_type=sa.BigInteger)
    payload: str = Field(sa_type=long_text())
