"""The one settings object.

Everything Stratus reads from its environment is declared here, and nothing else in the
package touches ``os.environ``. The same contract holds locally, in Docker and on Cloud
Run; ``stratus serve`` flags only override these values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("stratus-data")


class Settings(BaseSettings):
    """Runtime configuration, read from ``STRATUS_*`` variables (and ``PORT``)."""

    model_config = SettingsConfigDict(env_prefix="STRATUS_", extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the backend store. Unset: a SQLite file in data_dir.",
    )
    artifact_root: str | None = Field(
        default=None,
        description="Where artifacts live: a local path, file:// URL or gs://bucket/prefix. "
        "Unset: a folder in data_dir.",
    )
    cloud_sql_instance: str | None = Field(
        default=None,
        description="Cloud SQL instance connection name (PROJECT:REGION:INSTANCE). When set, "
        "connections go through the Cloud SQL Python Connector with IAM database auth.",
    )
    cloud_sql_ip_type: Literal["public", "private", "psc"] = "public"
    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR,
        description="Home of the embedded default (SQLite file and artifact folder).",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=5000, validation_alias=AliasChoices("STRATUS_PORT", "PORT"))
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["plain", "json"] = "plain"
    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_max_overflow: int = Field(default=5, ge=0, le=100)
    migrate_on_start: bool = True
    max_request_body_bytes: int = Field(
        default=64 * 1024 * 1024,
        description="Largest JSON request body accepted by the REST API (artifact uploads "
        "are streamed and not limited by this).",
    )
    shutdown_grace_seconds: int = Field(
        default=25, ge=0, description="How long SIGTERM waits for in-flight requests."
    )
    access_log: bool = Field(
        default=False, description="Log every request (Cloud Run already logs requests)."
    )

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def resolved_database_url(self) -> str:
        """The database URL, with the embedded SQLite default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'stratus.db').resolve()}"

    @property
    def resolved_artifact_root(self) -> str:
        """The artifact root, with the embedded local folder filled in."""
        if self.artifact_root:
            return self.artifact_root
        return str((self.data_dir / "artifacts").resolve())


class ClientCredentials(BaseSettings):
    """How ``stratus import`` authenticates to a tracking server: the variables the mlflow
    client reads (``MLFLOW_TRACKING_TOKEN``, ``MLFLOW_TRACKING_USERNAME``/``PASSWORD``).

    ``ClientCredentials(_env_prefix="STRATUS_SOURCE_TRACKING_")`` reads the same fields for
    a source server, which usually needs other credentials than the target.
    """

    model_config = SettingsConfigDict(env_prefix="MLFLOW_TRACKING_", extra="ignore", frozen=True)

    token: str | None = None
    username: str | None = None
    password: str | None = None
    insecure_tls: bool = False
