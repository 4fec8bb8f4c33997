"""The service's own identity: a dedicated service account with least privilege.

It gets no project-wide role at all. Each resource grants it access to itself: the Cloud
SQL roles are conditioned on the one instance (Database), object access is on the artifact
bucket alone (ArtifactBucket), secret access on the two auth secrets (AuthSecrets). Never
the default compute account.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.components._base import StratusComponent

TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"


@dataclass(frozen=True, kw_only=True)
class ServiceIdentityArgs:
    project: str
    """The project the account lives in and gets its roles on."""
    account_id: str
    """The account's id, the part of the email before ``@`` (6-30 characters)."""
    display_name: str = "Stratus tracking server (Cloud Run)"
    description: str = "Runs the Stratus Cloud Run service; the Cloud SQL IAM database user."
    signing: bool = False
    """Let the account sign blobs as itself (signed URLs without a key file)."""


class ServiceIdentity(StratusComponent):
    """A service account, and (with signing) the right to sign blobs as itself."""

    account: gcp.serviceaccount.Account
    email: pulumi.Output[str]
    member: pulumi.Output[str]
    """``serviceAccount:<email>``, ready for IAM bindings."""
    bindings: list[pulumi.Resource]
    """Every IAM grant made here; the service waits for them before its first revision."""

    def __init__(
        self, name: str, args: ServiceIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stratus:infra:ServiceIdentity", name, opts)
        self.account = gcp.serviceaccount.Account(
            f"{name}-sa",
            project=args.project,
            account_id=args.account_id,
            display_name=args.display_name,
            description=args.description,
            opts=self._child(),
        )
        self.email = self.account.email
        self.member = pulumi.Output.concat("serviceAccount:", self.account.email)
        self.bindings = []
        if args.signing:
            # signBlob on itself only: the account cannot mint tokens for any other identity.
            self.bindings.append(
                gcp.serviceaccount.IAMMember(
                    f"{name}-self-token-creator",
                    service_account_id=self.account.name,
                    role=TOKEN_CREATOR,
                    member=self.member,
                    opts=self._child(),
                )
            )
        self.register_outputs({"email": self.email, "member": self.member})
