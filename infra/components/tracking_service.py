"""The Cloud Run v2 service that runs Stratus, and who may call it.

The environment is the same ``STRATUS_*`` contract as a local run (service/config.py);
tests/infra/test_env_contract.py checks every name against ``service.config.Settings``.

Who gets in is decided in one of two ways, never neither:

* **App sign-in** (``app_auth`` set): the server authenticates every request itself
  (docs/auth.md), so Cloud Run's invoker check is switched off (``invoker_iam_disabled``),
  which is what lets a browser open the UI. No IAM binding names a public member: an
  ``allUsers`` binding is refused in organizations that restrict member domains
  (``iam.allowedPolicyMemberDomains``), while disabling the invoker check is not.
* **Cloud Run IAM** (``app_auth`` None): ``roles/run.invoker`` for the listed members
  only, and the server's own auth is off.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.components._base import LABELS, StratusComponent

run = gcp.cloudrunv2
CONTAINER_PORT = 8080
HEALTH_PATH = "/health"
INVOKER_ROLE = "roles/run.invoker"
#: The start-up probe: Cloud Run allows at most 240 s (failure threshold x period).
STARTUP_PROBE_PERIOD_SECONDS = 3
STARTUP_PROBE_FAILURES = 80
STARTUP_PROBE_BUDGET_SECONDS = STARTUP_PROBE_PERIOD_SECONDS * STARTUP_PROBE_FAILURES
#: What start-up keeps for the migrations after it reached the database.
MIGRATION_ALLOWANCE_SECONDS = 60
#: STRATUS_DB_STARTUP_WAIT_SECONDS: retry the first connection (IAM grants from the same
#: `pulumi up` take a minute or two to work) for the rest of the probe's budget.
DB_STARTUP_WAIT_SECONDS = STARTUP_PROBE_BUDGET_SECONDS - MIGRATION_ALLOWANCE_SECONDS
#: Cloud Run's front end is the only peer that can reach the container, and Google does
#: not document its address: trust the peer, and take the client from the right-most
#: X-Forwarded-For entry, the one the front end wrote (STRATUS_FORWARDED_ALLOW_IPS).
CLOUD_RUN_FRONT_END = "*"


def deterministic_url(service_name: str, project_number: str, region: str) -> str:
    """The service URL Cloud Run derives from name, project number and region, known before
    the service exists: ``https://<service>-<project-number>.<region>.run.app``."""
    return f"https://{service_name}-{project_number}.{region}.run.app"


@dataclass(frozen=True, kw_only=True)
class AppAuth:
    """Sign-in checked by the server (service/auth) instead of Cloud Run IAM."""

    session_key_secret: pulumi.Input[str]
    """Secret Manager secret holding the session-signing key (STRATUS_SESSION_SECRET)."""
    members: Sequence[str] = ()
    """STRATUS_MEMBERS: emails and ``domain:…`` entries."""
    admins: Sequence[str] = ()
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    default_permission: str = "READ"
    oauth_client_id: str | None = None
    oauth_client_secret_secret: pulumi.Input[str] | None = None
    """Secret with the OAuth client's secret; read only when ``oauth_client_id`` is set."""
    iap_audience: str | None = None
    client_ids: Sequence[str] = ()
    """OAuth client ids whose ID tokens are accepted next to the service URL (the gcloud
    clients researchers' credentials use); STRATUS_AUTH_AUDIENCES."""


@dataclass(frozen=True, kw_only=True)
class TrackingServiceArgs:
    project: str
    region: str
    service_name: str
    """The Cloud Run service's name (part of its URL)."""
    service_url: pulumi.Input[str]
    """The URL researchers use (see deterministic_url); the ID-token audience the server
    accepts, so it is never taken from a request's Host header."""
    image: pulumi.Input[str]
    """The image, pinned by digest (``…@sha256:…``)."""
    service_account_email: pulumi.Input[str]
    database_url: pulumi.Input[str]
    """A password-less URL: the connector authenticates as the service account."""
    artifact_root: pulumi.Input[str]
    cloud_sql_instance: pulumi.Input[str]
    cloud_sql_ip_type: str = "public"
    invokers: Sequence[str] = ()
    """IAM members given roles/run.invoker on this service only (without ``app_auth``)."""
    app_auth: AppAuth | None = None
    """Sign-in by the server itself; then every request reaches it (see above)."""
    log_level: str = "info"
    pool_size: int = 10
    max_overflow: int = 0
    cpu: str = "1"
    memory: str = "512Mi"
    min_instances: int = 0
    max_instances: int = 4
    concurrency: int = 80
    timeout_seconds: int = 900
    http2: bool = True
    """Serve HTTP/2 cleartext (h2c) end to end, which lifts Cloud Run's 32 MiB request limit."""
    vpc_network: str | None = None
    """With vpc_subnetwork: Direct VPC egress, to reach a private-IP Cloud SQL instance."""
    vpc_subnetwork: str | None = None
    deletion_protection: bool = True
    forwarded_allow_ips: str = CLOUD_RUN_FRONT_END
    """Peers whose X-Forwarded-* headers the server trusts."""


def container_env(args: TrackingServiceArgs) -> dict[str, pulumi.Input[str]]:
    """The container's environment. PORT is not here: Cloud Run sets it."""
    return {
        "STRATUS_DATABASE_URL": args.database_url,
        "STRATUS_ARTIFACT_ROOT": args.artifact_root,
        "STRATUS_CLOUD_SQL_INSTANCE": args.cloud_sql_instance,
        "STRATUS_CLOUD_SQL_IP_TYPE": args.cloud_sql_ip_type,
        "STRATUS_HOST": "0.0.0.0",
        "STRATUS_LOG_LEVEL": args.log_level,
        "STRATUS_LOG_FORMAT": "json",
        "STRATUS_DB_POOL_SIZE": str(args.pool_size),
        "STRATUS_DB_MAX_OVERFLOW": str(args.max_overflow),
        # Cloud Run sends SIGTERM and kills the container 10 s later; drain within that.
        "STRATUS_SHUTDOWN_GRACE_SECONDS": "8",
        "STRATUS_DB_STARTUP_WAIT_SECONDS": str(DB_STARTUP_WAIT_SECONDS),
        # Cloud Run sends at most this many requests at once; the server works on as many.
        "STRATUS_MAX_CONCURRENT_REQUESTS": str(args.concurrency),
        # Every request reaches the container through Cloud Run's front end: its
        # X-Forwarded-For/-Proto are the only word on the client (docs/configuration.md).
        "STRATUS_FORWARDED_ALLOW_IPS": args.forwarded_allow_ips,
        **_auth_env(args.app_auth, args.service_url),
    }


def _auth_env(auth: AppAuth | None, service_url: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
    # Explicit either way: on Cloud Run (K_SERVICE set) the server's default would be on.
    if auth is None:
        return {"STRATUS_AUTH_ENABLED": "false"}
    client_ids = [*auth.client_ids, *([auth.oauth_client_id] if auth.oauth_client_id else [])]
    env: dict[str, pulumi.Input[str]] = {
        "STRATUS_AUTH_AUDIENCES": pulumi.Output.from_input(service_url).apply(
            lambda url: ",".join([url, *client_ids])
        ),
        "STRATUS_AUTH_ENABLED": "true",
        "STRATUS_MEMBERS": ",".join(auth.members),
        "STRATUS_ADMINS": ",".join(auth.admins),
        "STRATUS_GROUPS": json.dumps({name: list(users) for name, users in auth.groups.items()}),
        "STRATUS_DEFAULT_PERMISSION": auth.default_permission,
    }
    if auth.oauth_client_id:
        env["STRATUS_OAUTH_CLIENT_ID"] = auth.oauth_client_id
    if auth.iap_audience:
        env["STRATUS_IAP_AUDIENCE"] = auth.iap_audience
    return env


def secret_env(args: TrackingServiceArgs) -> dict[str, pulumi.Input[str]]:
    """Variables Cloud Run fills from Secret Manager (latest version): name -> secret id."""
    auth = args.app_auth
    if auth is None:
        return {}
    env = {"STRATUS_SESSION_SECRET": auth.session_key_secret}
    if auth.oauth_client_id and auth.oauth_client_secret_secret is not None:
        env["STRATUS_OAUTH_CLIENT_SECRET"] = auth.oauth_client_secret_secret
    return env


class TrackingService(StratusComponent):
    """A private Cloud Run v2 service running the image as the given service account."""

    service: run.Service
    url: pulumi.Output[str]
    invoker_bindings: list[run.ServiceIamMember]

    def __init__(
        self, name: str, args: TrackingServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stratus:infra:TrackingService", name, opts)
        self.service = run.Service(
            f"{name}-service",
            project=args.project,
            location=args.region,
            name=args.service_name,
            ingress="INGRESS_TRAFFIC_ALL",
            # With app sign-in the server checks every request; without it, Cloud Run IAM does.
            invoker_iam_disabled=args.app_auth is not None,
            deletion_protection=args.deletion_protection,
            labels=LABELS,
            template=run.ServiceTemplateArgs(
                service_account=args.service_account_email,
                max_instance_request_concurrency=args.concurrency,
                timeout=f"{args.timeout_seconds}s",
                scaling=run.ServiceTemplateScalingArgs(
                    min_instance_count=args.min_instances, max_instance_count=args.max_instances
                ),
                vpc_access=_vpc_access(args),
                containers=[_container(args)],
            ),
            opts=self._child(),
        )
        self.url = pulumi.Output.from_input(args.service_url)
        invokers = [] if args.app_auth is not None else list(args.invokers)
        self.invoker_bindings = [
            run.ServiceIamMember(
                f"{name}-invoker-{_slug(member)}",
                project=args.project,
                location=args.region,
                name=self.service.name,
                role=INVOKER_ROLE,
                member=member,
                opts=self._child(),
            )
            for member in invokers
        ]
        self.register_outputs({"url": self.url})


def _container(args: TrackingServiceArgs) -> run.ServiceTemplateContainerArgs:
    return run.ServiceTemplateContainerArgs(
        image=args.image,
        envs=[
            *(
                run.ServiceTemplateContainerEnvArgs(name=key, value=value)
                for key, value in container_env(args).items()
            ),
            *(
                run.ServiceTemplateContainerEnvArgs(
                    name=key,
                    value_source=run.ServiceTemplateContainerEnvValueSourceArgs(
                        secret_key_ref=run.ServiceTemplateContainerEnvValueSourceSecretKeyRefArgs(
                            secret=secret, version="latest"
                        )
                    ),
                )
                for key, secret in secret_env(args).items()
            ),
        ],
        ports=run.ServiceTemplateContainerPortsArgs(
            # The port's name tells Cloud Run which protocol to speak to the container.
            name="h2c" if args.http2 else "http1",
            container_port=CONTAINER_PORT,
        ),
        resources=run.ServiceTemplateContainerResourcesArgs(
            limits={"cpu": args.cpu, "memory": args.memory},
            cpu_idle=True,
            startup_cpu_boost=True,
        ),
        # Start-up waits for the database (DB_STARTUP_WAIT_SECONDS), then applies pending
        # migrations under a database lock: Cloud Run's longest probe budget, 240 s.
        startup_probe=run.ServiceTemplateContainerStartupProbeArgs(
            http_get=run.ServiceTemplateContainerStartupProbeHttpGetArgs(path=HEALTH_PATH),
            period_seconds=STARTUP_PROBE_PERIOD_SECONDS,
            timeout_seconds=2,
            failure_threshold=STARTUP_PROBE_FAILURES,
        ),
        liveness_probe=run.ServiceTemplateContainerLivenessProbeArgs(
            http_get=run.ServiceTemplateContainerLivenessProbeHttpGetArgs(path=HEALTH_PATH),
            period_seconds=30,
            timeout_seconds=5,
            failure_threshold=3,
        ),
    )


def _vpc_access(args: TrackingServiceArgs) -> run.ServiceTemplateVpcAccessArgs | None:
    if args.vpc_network is None:
        return None
    return run.ServiceTemplateVpcAccessArgs(
        egress="PRIVATE_RANGES_ONLY",
        network_interfaces=[
            run.ServiceTemplateVpcAccessNetworkInterfaceArgs(
                network=args.vpc_network, subnetwork=args.vpc_subnetwork
            )
        ],
    )


def _slug(member: str) -> str:
    """A resource-name-safe form of an IAM member, stable when the list is reordered."""
    return re.sub(r"[^a-z0-9]+", "-", member.lower()).strip("-")
