"""build_stack(cfg): the components wired together, in dependency order."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pulumi
import pulumi_gcp as gcp

from infra.budget import check_connection_budget
from infra.components import (
    AppAuth,
    ArtifactBucket,
    ArtifactBucketArgs,
    AuthSecrets,
    AuthSecretsArgs,
    ContainerImage,
    ContainerImageArgs,
    Database,
    DatabaseArgs,
    ProjectApis,
    ProjectApisArgs,
    SchemaGrant,
    SchemaGrantArgs,
    ServiceIdentity,
    ServiceIdentityArgs,
    TrackingService,
    TrackingServiceArgs,
)
from infra.components.tracking_service import DB_STARTUP_WAIT_SECONDS, deterministic_url
from infra.config import StackConfig
from service.config import GCLOUD_ADC_CLIENT_ID, GCLOUD_CLI_CLIENT_ID

REPO_ROOT = Path(__file__).resolve().parent.parent
_DRIVERS = {"postgres": "postgresql+psycopg", "mysql": "mysql+pymysql"}


@dataclass(frozen=True)
class StackOutputs:
    service_url: pulumi.Output[str]
    artifact_bucket: pulumi.Output[str]
    artifact_root: pulumi.Output[str]
    cloud_sql_connection_name: pulumi.Output[str]
    service_account_email: pulumi.Output[str]
    image: pulumi.Output[str]


def build_stack(cfg: StackConfig) -> StackOutputs:
    """Create every resource for one Stratus deployment; fails before creating any if the
    connection budget does not fit."""
    check_connection_budget(cfg)
    name = cfg.service_name
    apis = ProjectApis(name, ProjectApisArgs(project=cfg.project, secrets=cfg.app_auth))
    after_apis = pulumi.ResourceOptions(depends_on=[apis])

    identity = ServiceIdentity(
        name,
        ServiceIdentityArgs(project=cfg.project, account_id=f"{name}-run", signing=cfg.signing),
        after_apis,
    )
    bucket = ArtifactBucket(
        name,
        ArtifactBucketArgs(
            project=cfg.project,
            location=cfg.region,
            object_user=identity.member,
            prefix=cfg.artifact_prefix,
            soft_delete_days=cfg.bucket_soft_delete_days,
            versioning=cfg.bucket_versioning,
            nearline_after_days=cfg.artifact_nearline_after_days,
            delete_after_days=cfg.artifact_delete_after_days,
            force_destroy=not cfg.deletion_protection,
        ),
        after_apis,
    )
    # The database's privileged user: runs the one-shot grant job, never serves a request.
    admin = ServiceIdentity(
        f"{name}-dbadmin",
        ServiceIdentityArgs(
            project=cfg.project,
            account_id=f"{name}-dbadmin",
            display_name="Stratus database administrator (one-shot grant job)",
            description="Grants the server's database user its privileges; serves nothing.",
        ),
        after_apis,
    )
    database = Database(name, _database_args(cfg, identity.email, admin.email), after_apis)
    image = _image(cfg, after_apis)
    grant = SchemaGrant(
        name,
        SchemaGrantArgs(
            project=cfg.project,
            region=cfg.region,
            job_name=f"{name}-db-grant",
            image=image,
            service_account_email=admin.email,
            database_url=_database_url(cfg, database.admin_user_name),
            cloud_sql_instance=database.connection_name,
            cloud_sql_ip_type="private" if cfg.uses_private_ip else "public",
            grantee=database.user_name,
            startup_wait_seconds=DB_STARTUP_WAIT_SECONDS,
            vpc_network=cfg.private_network,
            vpc_subnetwork=cfg.private_subnetwork,
            deletion_protection=cfg.deletion_protection,
        ),
        pulumi.ResourceOptions(depends_on=[apis, *database.bindings, database.database]),
    )
    secrets = (
        AuthSecrets(
            name, AuthSecretsArgs(project=cfg.project, accessor=identity.member), after_apis
        )
        if cfg.app_auth
        else None
    )

    service = TrackingService(
        name,
        TrackingServiceArgs(
            project=cfg.project,
            region=cfg.region,
            service_name=name,
            service_url=_service_url(cfg),
            image=image,
            service_account_email=identity.email,
            database_url=_database_url(cfg, database.user_name),
            artifact_root=bucket.artifact_root,
            cloud_sql_instance=database.connection_name,
            cloud_sql_ip_type="private" if cfg.uses_private_ip else "public",
            invokers=cfg.members,
            app_auth=_app_auth(cfg, secrets),
            log_level=cfg.log_level,
            pool_size=cfg.db_pool_size,
            max_overflow=cfg.db_max_overflow,
            cpu=cfg.cpu,
            memory=cfg.memory,
            min_instances=cfg.min_instances,
            max_instances=cfg.max_instances,
            concurrency=cfg.concurrency,
            timeout_seconds=cfg.request_timeout_seconds,
            http2=cfg.http2,
            vpc_network=cfg.private_network,
            vpc_subnetwork=cfg.private_subnetwork,
            deletion_protection=cfg.deletion_protection,
            forwarded_allow_ips=cfg.forwarded_allow_ips,
        ),
        # The first revision must find its roles, its database user, the privileges the grant
        # job gave that user, and its bucket grant.
        pulumi.ResourceOptions(
            depends_on=[
                apis,
                *identity.bindings,
                *database.bindings,
                grant.job,
                bucket.binding,
                database.database,
                *(secrets.bindings if secrets else []),
            ]
        ),
    )
    if cfg.app_auth and not (cfg.members or cfg.admins or cfg.groups):
        pulumi.log.warn(
            "stratus:members, stratus:admins and stratus:groups are empty: nobody can sign "
            "in. Add people with `pulumi config set --path 'stratus:admins[0]' "
            "lead@example.com` (see docs/auth.md)."
        )
    elif not cfg.app_auth and not cfg.members:
        pulumi.log.warn(
            "stratus:members is empty: nobody but project owners can call the service. "
            "Add users or groups with `pulumi config set --path 'stratus:members[0]' "
            "group:ml-team@example.com`."
        )
    return StackOutputs(
        service_url=service.url,
        artifact_bucket=bucket.name,
        artifact_root=bucket.artifact_root,
        cloud_sql_connection_name=database.connection_name,
        service_account_email=identity.email,
        image=pulumi.Output.from_input(image),
    )


def _service_url(cfg: StackConfig) -> pulumi.Output[str]:
    """The deterministic service URL: the one researchers export, and the only ID-token
    audience of its own the server accepts."""
    project = gcp.organizations.get_project_output(project_id=cfg.project)
    return project.number.apply(
        lambda number: deterministic_url(cfg.service_name, str(number), cfg.region)
    )


def _app_auth(cfg: StackConfig, secrets: AuthSecrets | None) -> AppAuth | None:
    if secrets is None:
        return None
    return AppAuth(
        session_key_secret=secrets.session_key_id,
        members=cfg.app_members,
        admins=cfg.admins,
        groups=cfg.groups,
        default_permission=cfg.default_permission,
        oauth_client_id=cfg.oauth_client_id,
        oauth_client_secret_secret=secrets.oauth_client_secret_id,
        iap_audience=cfg.iap_audience,
        # The audiences of the ID tokens researchers' gcloud credentials mint (docs/auth.md).
        client_ids=(GCLOUD_ADC_CLIENT_ID, GCLOUD_CLI_CLIENT_ID),
    )


def _database_url(cfg: StackConfig, user: pulumi.Output[str]) -> pulumi.Output[str]:
    return user.apply(lambda name: database_url(name, cfg.db_name, postgres=cfg.is_postgres))


def database_url(user: str, db_name: str, *, postgres: bool) -> str:
    """A password-less SQLAlchemy URL for IAM database auth through the connector."""
    driver = _DRIVERS["postgres" if postgres else "mysql"]
    return f"{driver}://{quote(user, safe='')}@/{db_name}"


def _database_args(
    cfg: StackConfig, iam_user_email: pulumi.Output[str], admin_email: pulumi.Output[str]
) -> DatabaseArgs:
    return DatabaseArgs(
        project=cfg.project,
        region=cfg.region,
        iam_user_email=iam_user_email,
        admin_email=admin_email,
        version=cfg.db_version,
        tier=cfg.db_tier,
        edition=cfg.db_edition,
        high_availability=cfg.db_high_availability,
        disk_size_gb=cfg.db_disk_size_gb,
        disk_autoresize=cfg.db_disk_autoresize,
        disk_autoresize_limit_gb=cfg.db_disk_autoresize_limit_gb,
        backups_retained=cfg.db_backups_retained,
        pitr_days=cfg.db_pitr_days,
        database_name=cfg.db_name,
        ssl_mode=cfg.db_ssl_mode,
        max_connections=cfg.db_max_connections,
        deletion_protection=cfg.deletion_protection,
        private_network=cfg.private_network,
    )


def _image(cfg: StackConfig, opts: pulumi.ResourceOptions) -> pulumi.Input[str]:
    """The prebuilt image from stratus:image, or the repo's Dockerfile built and pushed."""
    if cfg.image:
        return cfg.image
    # Pulumi runs the program from infra/ (the `main` of Pulumi.yaml); the build context is
    # the repository root, expressed relative to wherever we run so the state is portable.
    context = os.path.relpath(REPO_ROOT, Path.cwd())
    built = ContainerImage(
        cfg.service_name,
        ContainerImageArgs(
            project=cfg.project,
            region=cfg.region,
            repository_id=cfg.service_name,
            context=context,
            dockerfile=os.path.join(context, "Dockerfile"),
        ),
        opts,
    )
    return built.ref
