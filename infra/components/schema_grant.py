"""The one-time grant that lets the server's database user migrate without superuser rights.

A new Cloud SQL IAM user has no privileges, and only a member of ``cloudsqlsuperuser`` can
grant some. The server's own user is not one: a separate service account (``<name>-dbadmin``,
the instance's privileged IAM user) runs ``stratus db grant <server user>`` once, as a Cloud
Run job that this component creates and runs (``run_execution_token``: ``pulumi up`` waits
until the execution has succeeded). The privileged account serves no request and nobody
but project admins can run the job; the server's identity, the one on the internet, holds
only what its migrations need.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.components._base import LABELS, StratusComponent

run = gcp.cloudrunv2


@dataclass(frozen=True, kw_only=True)
class SchemaGrantArgs:
    project: str
    region: str
    job_name: str
    image: pulumi.Input[str]
    """The server's image: the job runs its ``stratus db grant``."""
    service_account_email: pulumi.Input[str]
    """The privileged account the job runs as (the instance's cloudsqlsuperuser IAM user)."""
    database_url: pulumi.Input[str]
    """A password-less URL naming the privileged IAM user."""
    cloud_sql_instance: pulumi.Input[str]
    cloud_sql_ip_type: str = "public"
    grantee: pulumi.Input[str]
    """The server's database user, which gets the privileges."""
    startup_wait_seconds: int = 180
    """STRATUS_DB_STARTUP_WAIT_SECONDS: the job's own grants propagate like the server's."""
    vpc_network: str | None = None
    vpc_subnetwork: str | None = None
    deletion_protection: bool = True


def execution_token(grantee: str) -> str:
    """A token that changes only with the grantee: the job runs again only when needed."""
    return "g" + hashlib.sha256(grantee.encode()).hexdigest()[:12]


def job_env(args: SchemaGrantArgs) -> dict[str, pulumi.Input[str]]:
    return {
        "STRATUS_DATABASE_URL": args.database_url,
        "STRATUS_CLOUD_SQL_INSTANCE": args.cloud_sql_instance,
        "STRATUS_CLOUD_SQL_IP_TYPE": args.cloud_sql_ip_type,
        "STRATUS_LOG_FORMAT": "json",
        "STRATUS_DB_STARTUP_WAIT_SECONDS": str(args.startup_wait_seconds),
    }


class SchemaGrant(StratusComponent):
    """A Cloud Run job that runs ``stratus db grant`` as the privileged account, once."""

    job: run.Job

    def __init__(
        self, name: str, args: SchemaGrantArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stratus:infra:SchemaGrant", name, opts)
        self.job = run.Job(
            f"{name}-job",
            project=args.project,
            location=args.region,
            name=args.job_name,
            deletion_protection=args.deletion_protection,
            labels=LABELS,
            run_execution_token=pulumi.Output.from_input(args.grantee).apply(execution_token),
            template=run.JobTemplateArgs(
                task_count=1,
                template=run.JobTemplateTemplateArgs(
                    service_account=args.service_account_email,
                    max_retries=3,
                    timeout="600s",
                    vpc_access=_vpc_access(args),
                    containers=[
                        run.JobTemplateTemplateContainerArgs(
                            image=args.image,
                            commands=["stratus"],
                            args=pulumi.Output.from_input(args.grantee).apply(
                                lambda user: ["db", "grant", user]
                            ),
                            envs=[
                                run.JobTemplateTemplateContainerEnvArgs(name=key, value=value)
                                for key, value in job_env(args).items()
                            ],
                        )
                    ],
                ),
            ),
            opts=self._child(),
        )
        self.register_outputs({"job": self.job.name})


def _vpc_access(args: SchemaGrantArgs) -> run.JobTemplateTemplateVpcAccessArgs | None:
    if args.vpc_network is None:
        return None
    return run.JobTemplateTemplateVpcAccessArgs(
        egress="PRIVATE_RANGES_ONLY",
        network_interfaces=[
            run.JobTemplateTemplateVpcAccessNetworkInterfaceArgs(
                network=args.vpc_network, subnetwork=args.vpc_subnetwork
            )
        ],
    )
