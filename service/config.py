"""The one settings object.

Everything Stratus reads from its environment is declared here, and nothing else in the
package touches ``os.environ``. The same contract holds locally, in Docker and on Cloud
Run; ``stratus serve`` flags only override these values.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATA_DIR = Path("stratus-data")

#: The OAuth clients of ``gcloud auth application-default login`` and of ``gcloud`` itself:
#: the audiences of the ID tokens a user's gcloud credentials can mint (docs/auth.md).
GCLOUD_ADC_CLIENT_ID = "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com"
GCLOUD_CLI_CLIENT_ID = "32555940559.apps.googleusercontent.com"

#: A comma-separated (or JSON list) variable, read into a tuple.
CommaList = Annotated[tuple[str, ...], NoDecode]


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
    db_pool_size: int = Field(default=10, ge=1, le=100)
    db_max_overflow: int = Field(default=0, ge=0, le=100)
    db_pool_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=600,
        description="How long a request waits for a free database connection before it is "
        "answered 503 with Retry-After.",
    )
    db_statement_timeout_seconds: float = Field(
        default=60,
        ge=0,
        le=3600,
        description="The longest a statement may run on PostgreSQL or MySQL before it is "
        "cancelled and the request answered 503; 0 for no limit. Migrations are not limited.",
    )
    migrate_on_start: bool = True
    db_startup_wait_seconds: float = Field(
        default=30,
        ge=0,
        le=3600,
        description="How long start-up keeps retrying its first database connection (with "
        "backoff, one log line per retry) before giving up; 0 tries once. Covers a database "
        "still booting and, on Cloud SQL, IAM grants that have not propagated yet. Keep it "
        "inside the start-up probe's budget (the Pulumi program does).",
    )
    max_request_body_bytes: int = Field(
        default=64 * 1024 * 1024,
        description="Largest JSON request body accepted by the REST API (artifact uploads "
        "are streamed and not limited by this).",
    )
    trace_span_inline_bytes: int = Field(
        default=256 * 1024,
        ge=0,
        description="Span contents (inputs, outputs, attributes) up to this size are stored "
        "in the database, where search can read them; larger ones go to the artifact store "
        "(docs/tracing.md).",
    )
    trace_retention_days: float | None = Field(
        default=None,
        gt=0,
        description="`stratus gc` removes traces requested longer ago than this, deleted "
        "or not (unset: traces are kept until deleted).",
    )
    max_concurrent_requests: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Requests one process works on at once; more wait (see "
        "request_queue_seconds). On Cloud Run, the service's concurrency.",
    )
    request_queue_seconds: float = Field(
        default=10,
        ge=0,
        le=600,
        description="How long a request waits for a free slot before it is answered 503 "
        "with Retry-After.",
    )
    shutdown_grace_seconds: int = Field(
        default=25, ge=0, description="How long SIGTERM waits for in-flight requests."
    )
    access_log: bool = Field(
        default=False, description="Log every request (Cloud Run already logs requests)."
    )
    forwarded_allow_ips: CommaList = Field(
        default=("127.0.0.1", "::1"),
        description="Comma-separated addresses or networks (CIDR) of the proxies whose "
        "X-Forwarded-For/-Proto/-Host headers are trusted, or * for any peer (only where "
        "the port is reachable through the proxy alone, as on Cloud Run). Default: "
        "loopback only.",
    )
    # --- access control (docs/auth.md) -------------------------------------------------
    auth_enabled: bool | None = Field(
        default=None,
        description="Require authentication on every request but /health. Unset: on when "
        "running on Cloud Run (K_SERVICE is set), off otherwise, with a warning.",
    )
    cloud_run_service: str | None = Field(
        default=None,
        validation_alias=AliasChoices("K_SERVICE"),
        description="Set by Cloud Run. Turns auth on by default.",
    )
    admins: CommaList = Field(
        default=(), description="Comma-separated emails/usernames with full access."
    )
    members: CommaList = Field(
        default=(),
        description="Comma-separated emails/usernames allowed in, or domain:example.com for a "
        "whole Google Workspace domain. Users created with `stratus user create` are members.",
    )
    groups: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description='JSON object of group name to member emails, e.g. {"vision": '
        '["a@x.com"]}. Members of a group are members; grants can name group:<name>.',
    )
    default_permission: Literal["NO_PERMISSIONS", "READ", "EDIT", "MANAGE"] = Field(
        default="READ",
        description="A member's permission on an experiment or registered model without a "
        "grant (MLflow's default_permission).",
    )
    auth_audiences: CommaList = Field(
        default=(GCLOUD_ADC_CLIENT_ID, GCLOUD_CLI_CLIENT_ID),
        description="Accepted `aud` values of Google ID tokens (comma-separated): the only "
        "ones, never derived from the request. The default accepts tokens from a user's "
        "gcloud credentials; the OAuth client id is always accepted. On Cloud Run, the "
        "deployment adds the service's own URL (what service accounts mint tokens for).",
    )
    oauth_client_id: str | None = Field(
        default=None, description="OAuth client id for 'Sign in with Google' in the browser."
    )
    oauth_client_secret: SecretStr | None = Field(
        default=None,
        description="That client's secret; from Secret Manager, never a plain variable.",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs browser sessions (32+ random bytes; from Secret Manager). "
        "Unset: a random per-process key, so sessions end on restart.",
    )
    session_max_age_seconds: int = Field(
        default=12 * 3600, ge=60, description="How long a browser session lasts."
    )
    iap_audience: str | None = Field(
        default=None,
        description="Expected audience of IAP's x-goog-iap-jwt-assertion "
        "(/projects/NUMBER/...); unset: the header is ignored.",
    )
    auth_cache_seconds: int = Field(
        default=30,
        ge=0,
        le=3600,
        description="How long verified credentials, users and grants are cached per instance; "
        "bounds how late a revocation made elsewhere takes effect.",
    )
    google_certs_url: str = Field(
        default="https://www.googleapis.com/oauth2/v3/certs",
        description="JWKS of Google's ID-token signing keys.",
    )
    iap_certs_url: str = Field(
        default="https://www.gstatic.com/iap/verify/public_key-jwk",
        description="JWKS of IAP's signing keys.",
    )

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("admins", "members", "auth_audiences", "forwarded_allow_ips", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().startswith("["):
                return tuple(json.loads(value))
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("admins", "members", mode="after")
    @classmethod
    def _lower_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(item.lower() for item in value)

    @field_validator("groups", mode="after")
    @classmethod
    def _lower_group_members(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return {name: tuple(m.strip().lower() for m in names) for name, names in value.items()}

    @field_validator("forwarded_allow_ips", mode="after")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if entry != "*":
                ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
        return value

    @field_validator("default_permission", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def auth_is_enabled(self) -> bool:
        """Explicit STRATUS_AUTH_ENABLED wins; otherwise on exactly when on Cloud Run."""
        if self.auth_enabled is not None:
            return self.auth_enabled
        return self.cloud_run_service is not None

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
