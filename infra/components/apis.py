"""The Google APIs the deployment needs, enabled before anything else is created."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.components._base import StratusComponent

#: Cloud Run; Cloud SQL Admin (also called by the connector at run time); Artifact Registry
#: (the image); IAM and IAM Credentials (service account, IAM database auth, URL signing);
#: Cloud Storage (artifacts).
APIS = (
    "run.googleapis.com",
    "sqladmin.googleapis.com",
    "artifactregistry.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "storage.googleapis.com",
)
#: Only with app sign-in, whose keys live in Secret Manager.
SECRETS_API = "secretmanager.googleapis.com"


@dataclass(frozen=True, kw_only=True)
class ProjectApisArgs:
    project: str
    """The project to enable the APIs in."""
    secrets: bool = False
    """Also enable Secret Manager."""


class ProjectApis(StratusComponent):
    """One ``gcp.projects.Service`` per API.

    Destroying the stack leaves the APIs enabled: other workloads in the project may use them.
    """

    services: dict[str, gcp.projects.Service]

    def __init__(
        self, name: str, args: ProjectApisArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stratus:infra:ProjectApis", name, opts)
        self.services = {
            api: gcp.projects.Service(
                f"{name}-{api.split('.')[0]}",
                project=args.project,
                service=api,
                disable_on_destroy=False,
                opts=self._child(),
            )
            for api in (*APIS, *([SECRETS_API] if args.secrets else []))
        }
        self.register_outputs({"services": list(self.services)})
