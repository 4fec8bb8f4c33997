"""The stack configuration, read from ``pulumi.Config`` once and validated.

Every key has a default here and a line in docs/infra-config.md and Pulumi.example.yaml;
tests/infra/test_config.py keeps the three in step. Only ``gcp:project`` and ``gcp:region``
are required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pulumi

from infra.components.tracking_service import CLOUD_RUN_FRONT_END
from infra.errors import StackConfigError

NAMESPACE = "stratus"

#: IAM member prefixes accepted in ``stratus:members``. ``allUsers`` and
#: ``allAuthenticatedUsers`` are refused: the service is never public.
MEMBER_PREFIXES = ("user:", "group:", "serviceAccount:", "domain:", "principal:", "principalSet:")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
#: Who checks identity: the app itself (service/auth; Cloud Run lets requests through so
#: browsers can sign in), or Cloud Run IAM alone (API clients only, no per-experiment rules).
ACCESS_MODES = ("app", "iam")
#: The members the app can check itself (emails, whole domains); Google Groups need IAM.
APP_MEMBER_PREFIXES = ("user:", "serviceAccount:", "domain:")
PERMISSIONS = ("NO_PERMISSIONS", "READ", "EDIT", "MANAGE")
SSL_MODES = ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")
LOG_LEVELS = ("debug", "info", "warning", "error")
_DB_VERSION = re.compile(r"^(POSTGRES_\d+|MYSQL_8_0|MYSQL_8_4)$")
#: Enterprise Plus offers only the performance-optimized machines (N2 vCPU counts); Enterprise
#: offers every other tier (shared-core, custom, n1) but not these.
ENTERPRISE_PLUS_TIER = re.compile(r"^db-perf-optimized-N-(2|4|8|16|32|48|64|80|96|128)$")
#: Days of transaction logs Cloud SQL keeps at most for point-in-time recovery.
PITR_MAX_DAYS = {"ENTERPRISE": 7, "ENTERPRISE_PLUS": 35}
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{2,21}$")


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    """Everything the program needs, with the defaults documented in docs/infra-config.md."""

    project: str
    region: str
    service_name: str = "stratus"
    members: tuple[str, ...] = ()
    image: str | None = None
    http2: bool = True
    cpu: str = "1"
    memory: str = "512Mi"
    min_instances: int = 0
    max_instances: int = 4
    concurrency: int = 80
    request_timeout_seconds: int = 900
    log_level: str = "info"
    db_pool_size: int = 10
    db_max_overflow: int = 0
    db_version: str = "POSTGRES_16"
    db_tier: str = "db-custom-1-3840"
    db_edition: str = "ENTERPRISE"
    db_high_availability: bool = False
    db_disk_size_gb: int = 10
    db_disk_autoresize: bool = True
    db_disk_autoresize_limit_gb: int = 0
    db_backups_retained: int = 8
    db_pitr_days: int = 7
    db_name: str = "stratus"
    db_ssl_mode: str = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    db_max_connections: int | None = None
    db_reserved_connections: int = 10
    deletion_protection: bool = True
    private_network: str | None = None
    private_subnetwork: str | None = None
    artifact_prefix: str = "artifacts"
    bucket_soft_delete_days: int = 7
    bucket_versioning: bool = False
    artifact_nearline_after_days: int = 0
    artifact_delete_after_days: int = 0
    signing: bool = False
    access: str = "app"
    admins: tuple[str, ...] = ()
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    default_permission: str = "READ"
    oauth_client_id: str | None = None
    iap_audience: str | None = None
    forwarded_allow_ips: str = CLOUD_RUN_FRONT_END

    @property
    def app_auth(self) -> bool:
        return self.access == "app"

    @property
    def app_members(self) -> tuple[str, ...]:
        """``stratus:members`` as STRATUS_MEMBERS entries: emails and ``domain:…``."""
        return tuple(m if m.startswith("domain:") else m.split(":", 1)[1] for m in self.members)

    @property
    def is_postgres(self) -> bool:
        return self.db_version.startswith("POSTGRES_")

    @property
    def uses_private_ip(self) -> bool:
        return self.private_network is not None


class ConfigReader:
    """Reads ``stratus:*`` keys and remembers which ones it was asked for."""

    def __init__(self) -> None:
        self._stratus = pulumi.Config(NAMESPACE)
        self._gcp = pulumi.Config("gcp")
        self.keys_read: set[str] = set()

    def gcp(self, key: str) -> str:
        return self._gcp.require(key)

    def get_str(self, key: str, default: str) -> str:
        return self.get_optional(key) or default

    def get_optional(self, key: str) -> str | None:
        self.keys_read.add(key)
        return self._stratus.get(key) or None

    def get_int(self, key: str, default: int) -> int:
        self.keys_read.add(key)
        value = self._stratus.get_int(key)
        return default if value is None else value

    def get_bool(self, key: str, default: bool) -> bool:
        self.keys_read.add(key)
        value = self._stratus.get_bool(key)
        return default if value is None else value

    def get_groups(self, key: str) -> dict[str, tuple[str, ...]]:
        self.keys_read.add(key)
        value: Any = self._stratus.get_object(key)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(users, list) and all(isinstance(u, str) for u in users)
            for users in value.values()
        ):
            raise StackConfigError(
                f"stratus:{key} must map group names to lists of emails, got {value!r}"
            )
        return {str(name): tuple(users) for name, users in value.items()}

    def get_list(self, key: str) -> tuple[str, ...]:
        self.keys_read.add(key)
        value: Any = self._stratus.get_object(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise StackConfigError(f"stratus:{key} must be a list of strings, got {value!r}")
        return tuple(value)


def load_config(reader: ConfigReader | None = None) -> StackConfig:
    """Read and validate the stack config; raises StackConfigError naming the bad key."""
    r = reader or ConfigReader()
    d = StackConfig  # defaults live on the dataclass; read them from there
    max_conns = r.get_int("dbMaxConnections", 0)
    cfg = StackConfig(
        project=r.gcp("project"),
        region=r.gcp("region"),
        service_name=r.get_str("serviceName", d.service_name),
        members=r.get_list("members"),
        image=r.get_optional("image"),
        http2=r.get_bool("http2", d.http2),
        cpu=r.get_str("cpu", d.cpu),
        memory=r.get_str("memory", d.memory),
        min_instances=r.get_int("minInstances", d.min_instances),
        max_instances=r.get_int("maxInstances", d.max_instances),
        concurrency=r.get_int("concurrency", d.concurrency),
        request_timeout_seconds=r.get_int("requestTimeoutSeconds", d.request_timeout_seconds),
        log_level=r.get_str("logLevel", d.log_level).lower(),
        db_pool_size=r.get_int("dbPoolSize", d.db_pool_size),
        db_max_overflow=r.get_int("dbMaxOverflow", d.db_max_overflow),
        db_version=r.get_str("dbVersion", d.db_version).upper(),
        db_tier=r.get_str("dbTier", d.db_tier),
        db_edition=r.get_str("dbEdition", d.db_edition).upper(),
        db_high_availability=r.get_bool("dbHighAvailability", d.db_high_availability),
        db_disk_size_gb=r.get_int("dbDiskSizeGb", d.db_disk_size_gb),
        db_disk_autoresize=r.get_bool("dbDiskAutoresize", d.db_disk_autoresize),
        db_disk_autoresize_limit_gb=r.get_int(
            "dbDiskAutoresizeLimitGb", d.db_disk_autoresize_limit_gb
        ),
        db_backups_retained=r.get_int("dbBackupsRetained", d.db_backups_retained),
        db_pitr_days=r.get_int("dbPitrDays", d.db_pitr_days),
        db_name=r.get_str("dbName", d.db_name),
        db_ssl_mode=r.get_str("dbSslMode", d.db_ssl_mode).upper(),
        db_max_connections=max_conns or None,
        db_reserved_connections=r.get_int("dbReservedConnections", d.db_reserved_connections),
        deletion_protection=r.get_bool("deletionProtection", d.deletion_protection),
        private_network=r.get_optional("privateNetwork"),
        private_subnetwork=r.get_optional("privateSubnetwork"),
        artifact_prefix=r.get_str("artifactPrefix", d.artifact_prefix).strip("/"),
        bucket_soft_delete_days=r.get_int("bucketSoftDeleteDays", d.bucket_soft_delete_days),
        bucket_versioning=r.get_bool("bucketVersioning", d.bucket_versioning),
        artifact_nearline_after_days=r.get_int(
            "artifactNearlineAfterDays", d.artifact_nearline_after_days
        ),
        artifact_delete_after_days=r.get_int(
            "artifactDeleteAfterDays", d.artifact_delete_after_days
        ),
        signing=r.get_bool("signing", d.signing),
        access=r.get_str("access", d.access).lower(),
        admins=r.get_list("admins"),
        groups=r.get_groups("groups"),
        default_permission=r.get_str("defaultPermission", d.default_permission).upper(),
        oauth_client_id=r.get_optional("oauthClientId"),
        iap_audience=r.get_optional("iapAudience"),
        forwarded_allow_ips=r.get_str("forwardedAllowIps", d.forwarded_allow_ips),
    )
    validate(cfg)
    return cfg


def validate(cfg: StackConfig) -> None:
    """Refuse configs that would deploy something unsafe or broken."""
    problems = [
        *_access_problems(cfg),
        *_sign_in_problems(cfg),
        *_service_problems(cfg),
        *_database_problems(cfg),
    ]
    if problems:
        raise StackConfigError("Invalid stack config:\n  - " + "\n  - ".join(problems))


def _access_problems(cfg: StackConfig) -> list[str]:
    problems = []
    for member in cfg.members:
        if member in PUBLIC_MEMBERS:
            problems.append(
                f"stratus:members contains {member!r}: the service is never public. List "
                "users and groups (user:alice@example.com, group:ml-team@example.com)."
            )
        elif not member.startswith(MEMBER_PREFIXES):
            problems.append(
                f"stratus:members entry {member!r} must start with one of "
                f"{', '.join(MEMBER_PREFIXES)}"
            )
    if cfg.image is not None and "@sha256:" not in cfg.image:
        problems.append(
            f"stratus:image must be pinned by digest (…/stratus@sha256:…), got {cfg.image!r}"
        )
    return problems


def _sign_in_problems(cfg: StackConfig) -> list[str]:
    if cfg.access not in ACCESS_MODES:
        return [f"stratus:access must be one of {', '.join(ACCESS_MODES)}, got {cfg.access!r}"]
    if not cfg.app_auth:
        app_only = {
            "admins": cfg.admins,
            "groups": cfg.groups,
            "oauthClientId": cfg.oauth_client_id,
            "iapAudience": cfg.iap_audience,
        }
        return [
            f"stratus:{key} needs stratus:access app (the app checks it; IAM cannot)"
            for key, value in app_only.items()
            if value
        ]
    problems = [
        f"stratus:members entry {member!r}: with stratus:access app the server checks "
        "members itself and cannot read Google Groups. List people (user:…), a Workspace "
        "domain (domain:…), or name groups in stratus:groups; or use stratus:access iam."
        for member in cfg.members
        if member.startswith(MEMBER_PREFIXES) and not member.startswith(APP_MEMBER_PREFIXES)
    ]
    problems += [
        f"stratus:admins entry {admin!r} must be an email (no prefix)"
        for admin in cfg.admins
        if ":" in admin or "@" not in admin
    ]
    if cfg.default_permission not in PERMISSIONS:
        problems.append(f"stratus:defaultPermission must be one of {', '.join(PERMISSIONS)}")
    if cfg.iap_audience is not None and not cfg.iap_audience.startswith("/projects/"):
        problems.append(
            "stratus:iapAudience looks like /projects/NUMBER/locations/REGION/services/NAME"
        )
    return problems


def _service_problems(cfg: StackConfig) -> list[str]:
    problems = []
    if not _SERVICE_NAME.match(cfg.service_name):
        problems.append(
            "stratus:serviceName must be 3-22 lowercase letters, digits or dashes, "
            f"starting with a letter, got {cfg.service_name!r}"
        )
    if cfg.max_instances < 1 or cfg.min_instances < 0 or cfg.min_instances > cfg.max_instances:
        problems.append(
            "need 0 <= stratus:minInstances <= stratus:maxInstances and maxInstances >= 1"
        )
    if not 1 <= cfg.concurrency <= 1000:
        problems.append("stratus:concurrency must be between 1 and 1000")
    if not 1 <= cfg.request_timeout_seconds <= 3600:
        problems.append("stratus:requestTimeoutSeconds must be between 1 and 3600")
    if cfg.log_level not in LOG_LEVELS:
        problems.append(f"stratus:logLevel must be one of {', '.join(LOG_LEVELS)}")
    if not 1 <= cfg.db_pool_size <= 100 or not 0 <= cfg.db_max_overflow <= 100:
        problems.append("stratus:dbPoolSize must be 1-100 and stratus:dbMaxOverflow 0-100")
    if (cfg.private_network is None) != (cfg.private_subnetwork is None):
        problems.append("set both stratus:privateNetwork and stratus:privateSubnetwork, or neither")
    if cfg.bucket_soft_delete_days and not 7 <= cfg.bucket_soft_delete_days <= 90:
        problems.append("stratus:bucketSoftDeleteDays must be 0 (off) or between 7 and 90")
    return problems


def _database_problems(cfg: StackConfig) -> list[str]:
    problems = []
    if not _DB_VERSION.match(cfg.db_version):
        problems.append(
            f"stratus:dbVersion {cfg.db_version!r} is not supported: use POSTGRES_<n> "
            "(default POSTGRES_16), MYSQL_8_0 or MYSQL_8_4"
        )
    if cfg.db_ssl_mode not in SSL_MODES:
        problems.append(f"stratus:dbSslMode must be one of {', '.join(SSL_MODES)}")
    if cfg.db_edition not in PITR_MAX_DAYS:
        problems.append("stratus:dbEdition must be ENTERPRISE or ENTERPRISE_PLUS")
    else:
        problems += _edition_problems(cfg)
    if cfg.db_reserved_connections < 0:
        problems.append("stratus:dbReservedConnections must be >= 0")
    return problems


def _edition_problems(cfg: StackConfig) -> list[str]:
    """What Cloud SQL would refuse at apply time for this edition, caught before preview."""
    problems = []
    plus = cfg.db_edition == "ENTERPRISE_PLUS"
    if plus and not ENTERPRISE_PLUS_TIER.match(cfg.db_tier):
        problems.append(
            f"stratus:dbTier {cfg.db_tier!r} is not offered by stratus:dbEdition "
            "ENTERPRISE_PLUS, which has only db-perf-optimized-N-<2|4|8|16|32|48|64|80|96|128>"
        )
    elif not plus and ENTERPRISE_PLUS_TIER.match(cfg.db_tier):
        problems.append(f"stratus:dbTier {cfg.db_tier!r} needs stratus:dbEdition ENTERPRISE_PLUS")
    # Enterprise Plus keeps up to 35 days of logs on PostgreSQL only (the provider's docs).
    max_days = PITR_MAX_DAYS[cfg.db_edition] if cfg.is_postgres else PITR_MAX_DAYS["ENTERPRISE"]
    if not 1 <= cfg.db_pitr_days <= max_days:
        problems.append(
            f"stratus:dbPitrDays must be 1-{max_days} on {cfg.db_edition} "
            f"({cfg.db_version}), got {cfg.db_pitr_days}"
        )
    if cfg.db_backups_retained <= cfg.db_pitr_days:
        problems.append(
            f"stratus:dbBackupsRetained ({cfg.db_backups_retained}) must be above "
            f"stratus:dbPitrDays ({cfg.db_pitr_days}): a point-in-time restore starts from "
            "a backup older than the oldest log kept"
        )
    return problems
