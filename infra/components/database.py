"""Cloud SQL: one instance, one database, and service accounts as its IAM database users.

No password exists anywhere: the instance has no root password set by this program, every
user is of type CLOUD_IAM_SERVICE_ACCOUNT, and connections go through the Cloud SQL
connectors with IAM authentication. SSL is enforced, connectors are required and no
network is authorized, so the public IP (if used) accepts only connector traffic.

Two users: the server's, with no Cloud SQL role at all (``stratus db grant``, run by
SchemaGrant, gives it what migrations need), and an administrator account's, a member of
``cloudsqlsuperuser`` that only that one-shot grant job uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.components._base import LABELS, StratusComponent

_Flag = gcp.sql.DatabaseInstanceSettingsDatabaseFlagArgs
_Retention = gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs

#: The IAM database authentication flag differs between the two engines.
IAM_AUTH_FLAG = {"postgres": "cloudsql.iam_authentication", "mysql": "cloudsql_iam_authentication"}
#: The server's user belongs to no role: its privileges come from ``stratus db grant``.
IAM_USER_ROLES: list[str] = []
#: The administrator account's user: it can grant those privileges.
ADMIN_USER_ROLES = ["cloudsqlsuperuser"]
#: What the connector needs to open IAM-authenticated connections: ``connect`` and ``get``
#: (client), ``login`` (instance user). Granted on the project but conditioned on this
#: instance, so the account can reach no other instance in the project.
CLIENT_ROLES = ("roles/cloudsql.client", "roles/cloudsql.instanceUser")


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    project: str
    region: str
    iam_user_email: pulumi.Input[str]
    """The service account that becomes the server's IAM database user."""
    admin_email: pulumi.Input[str]
    """The service account that becomes the privileged IAM user (``cloudsqlsuperuser``)."""
    version: str = "POSTGRES_16"
    """POSTGRES_<n>, MYSQL_8_0 or MYSQL_8_4."""
    tier: str = "db-custom-1-3840"
    edition: str = "ENTERPRISE"
    high_availability: bool = False
    """REGIONAL (a standby in another zone, about twice the price) instead of ZONAL."""
    disk_size_gb: int = 10
    disk_autoresize: bool = True
    disk_autoresize_limit_gb: int = 0
    """0: no limit."""
    backups_retained: int = 8
    pitr_days: int = 7
    """Days of transaction logs kept for point-in-time recovery."""
    database_name: str = "stratus"
    ssl_mode: str = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    max_connections: int | None = None
    """Set the max_connections flag; None keeps the tier's default."""
    deletion_protection: bool = True
    private_network: str | None = None
    """A VPC self link with private services access: the instance gets no public IP."""

    @property
    def engine(self) -> str:
        return "postgres" if self.version.startswith("POSTGRES_") else "mysql"


class Database(StratusComponent):
    """A Cloud SQL instance with backups, PITR, IAM auth and deletion protection."""

    instance: gcp.sql.DatabaseInstance
    database: gcp.sql.Database
    user: gcp.sql.User
    admin_user: gcp.sql.User
    """The privileged IAM user, for the one-shot grant job."""
    admin_user_name: pulumi.Output[str]
    connection_name: pulumi.Output[str]
    """PROJECT:REGION:INSTANCE, for STRATUS_CLOUD_SQL_INSTANCE."""
    user_name: pulumi.Output[str]
    """The IAM user's name inside the database (see iam_user_name)."""
    bindings: list[pulumi.Resource]
    """The Cloud SQL roles of the users' accounts (on this instance only) and the users."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stratus:infra:Database", name, opts)
        self.instance = gcp.sql.DatabaseInstance(
            f"{name}-instance",
            project=args.project,
            region=args.region,
            database_version=args.version,
            deletion_protection=args.deletion_protection,
            settings=_settings(args),
            opts=pulumi.ResourceOptions.merge(
                self._child(), pulumi.ResourceOptions(ignore_changes=_ignored_changes(args))
            ),
        )
        self.database = gcp.sql.Database(
            f"{name}-db",
            project=args.project,
            instance=self.instance.name,
            name=args.database_name,
            # MLflow names are case-sensitive; utf8mb4_bin keeps MySQL comparisons so.
            charset="utf8mb4" if args.engine == "mysql" else None,
            collation="utf8mb4_bin" if args.engine == "mysql" else None,
            opts=self._child(),
        )
        self.user_name, self.user = self._iam_user(
            f"{name}-iam-user", args, args.iam_user_email, IAM_USER_ROLES
        )
        self.admin_user_name, self.admin_user = self._iam_user(
            f"{name}-admin-user", args, args.admin_email, ADMIN_USER_ROLES
        )
        self.bindings = [
            self.user,
            self.admin_user,
            *self._client_roles(name, args, args.iam_user_email),
            *self._client_roles(f"{name}-admin", args, args.admin_email),
        ]
        self.connection_name = self.instance.connection_name
        self.register_outputs(
            {"connection_name": self.connection_name, "user_name": self.user_name}
        )

    def _iam_user(
        self, name: str, args: DatabaseArgs, email: pulumi.Input[str], roles: list[str]
    ) -> tuple[pulumi.Output[str], gcp.sql.User]:
        engine = args.engine
        user_name = pulumi.Output.from_input(email).apply(
            lambda address: iam_user_name(address, engine)
        )
        user = gcp.sql.User(
            name,
            project=args.project,
            instance=self.instance.name,
            name=user_name,
            type="CLOUD_IAM_SERVICE_ACCOUNT",
            database_roles=roles,
            # PostgreSQL refuses to drop a user that owns tables; leave it with the instance.
            deletion_policy="ABANDON" if engine == "postgres" else None,
            opts=self._child(),
        )
        return user_name, user

    def _client_roles(
        self, name: str, args: DatabaseArgs, email: pulumi.Input[str]
    ) -> list[gcp.projects.IAMMember]:
        """Connect and log in, conditioned on this instance: no other one is reachable."""
        member = pulumi.Output.concat("serviceAccount:", email)
        return [
            gcp.projects.IAMMember(
                f"{name}-{role.split('/')[1].replace('.', '-')}",
                project=args.project,
                role=role,
                member=member,
                condition=gcp.projects.IAMMemberConditionArgs(
                    title="Stratus instance only",
                    description="Cloud SQL access limited to the Stratus instance",
                    expression=self.instance.name.apply(
                        lambda instance: instance_condition(args.project, instance)
                    ),
                ),
                opts=self._child(),
            )
            for role in CLIENT_ROLES
        ]


def instance_condition(project: str, instance: str) -> str:
    """The IAM condition (CEL) that limits a Cloud SQL role to one instance."""
    return (
        f"resource.name == 'projects/{project}/instances/{instance}' "
        "&& resource.type == 'sqladmin.googleapis.com/Instance'"
    )


def iam_user_name(email: str, engine: str) -> str:
    """Cloud SQL's user name for a service account: the email without
    ``.gserviceaccount.com`` on PostgreSQL, the part before ``@`` on MySQL."""
    if engine == "postgres":
        return email.removesuffix(".gserviceaccount.com")
    return email.split("@", 1)[0]


#: The instance's disk size as Pulumi names it in ``ignore_changes``.
DISK_SIZE_PATH = "settings.diskSize"


def _ignored_changes(args: DatabaseArgs) -> list[str]:
    """With auto-resize, Cloud SQL grows the disk past ``disk_size``; a later ``pulumi up``
    must not try to shrink it back (the API refuses, and the provider would plan a
    replacement). The size is then only the initial one."""
    return [DISK_SIZE_PATH] if args.disk_autoresize else []


def _settings(args: DatabaseArgs) -> gcp.sql.DatabaseInstanceSettingsArgs:
    flags = [_Flag(name=IAM_AUTH_FLAG[args.engine], value="on")]
    if args.max_connections is not None:
        flags.append(_Flag(name="max_connections", value=str(args.max_connections)))
    return gcp.sql.DatabaseInstanceSettingsArgs(
        tier=args.tier,
        edition=args.edition,
        availability_type="REGIONAL" if args.high_availability else "ZONAL",
        disk_type="PD_SSD",
        disk_size=args.disk_size_gb,
        disk_autoresize=args.disk_autoresize,
        disk_autoresize_limit=args.disk_autoresize_limit_gb,
        deletion_protection_enabled=args.deletion_protection,
        database_flags=flags,
        backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
            enabled=True,
            start_time="03:00",
            # PITR is a flag on PostgreSQL and the binary log on MySQL.
            point_in_time_recovery_enabled=True if args.engine == "postgres" else None,
            binary_log_enabled=True if args.engine == "mysql" else None,
            transaction_log_retention_days=args.pitr_days,
            backup_retention_settings=_Retention(
                retained_backups=args.backups_retained, retention_unit="COUNT"
            ),
        ),
        ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
            ipv4_enabled=args.private_network is None,
            private_network=args.private_network,
            ssl_mode=args.ssl_mode,
            authorized_networks=[],
        ),
        connector_enforcement="REQUIRED",
        user_labels=dict(LABELS),
    )
