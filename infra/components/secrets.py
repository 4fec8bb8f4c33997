"""The secrets app sign-in needs, in Secret Manager, readable by the service alone.

* The session-signing key: 64 random characters made here (pulumi-random), stored as a
  secret version. It never appears in stack config. In the state it is a Pulumi secret,
  encrypted by the stack's secrets provider: the Cloud KMS key scripts/gcp-bootstrap.sh
  creates (or Pulumi Cloud's per-stack key), so reading the state bucket does not reveal it.
* The OAuth client secret for "Sign in with Google": only the secret is created here. Its
  value comes from the team's OAuth client, so the team lead adds it once with
  ``gcloud secrets versions add`` (docs/auth.md); the service reads it only when
  ``stratus:oauthClientId`` is set.

The service account gets ``roles/secretmanager.secretAccessor`` on these two secrets and
nothing else; Cloud Run injects the latest versions as environment variables.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from infra.components._base import LABELS, StratusComponent

ACCESSOR_ROLE = "roles/secretmanager.secretAccessor"


@dataclass(frozen=True, kw_only=True)
class AuthSecretsArgs:
    project: str
    accessor: pulumi.Input[str]
    """The IAM member (the service account) that may read the secrets."""


class AuthSecrets(StratusComponent):
    session_key: gcp.secretmanager.Secret
    oauth_client_secret: gcp.secretmanager.Secret
    session_key_id: pulumi.Output[str]
    oauth_client_secret_id: pulumi.Output[str]
    bindings: list[pulumi.Resource]
    """The accessor grants and the key's first version: the service waits for them."""

    def __init__(
        self, name: str, args: AuthSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stratus:infra:AuthSecrets", name, opts)
        self._accessors: list[pulumi.Resource] = []
        self.session_key = self._secret(f"{name}-session-key", args)
        self.oauth_client_secret = self._secret(f"{name}-oauth-client-secret", args)
        # Secret wherever it flows, whatever the provider's schema says: never plain in state.
        value = random.RandomPassword(
            f"{name}-session-key",
            length=64,
            special=False,
            opts=pulumi.ResourceOptions.merge(
                self._child(), pulumi.ResourceOptions(additional_secret_outputs=["result"])
            ),
        )
        data: pulumi.Output[str] = pulumi.Output.secret(value.result)
        version = gcp.secretmanager.SecretVersion(
            f"{name}-session-key",
            secret=self.session_key.id,
            secret_data=data,
            opts=self._child(),
        )
        self.bindings = [version, *self._accessors]
        self.session_key_id = self.session_key.secret_id
        self.oauth_client_secret_id = self.oauth_client_secret.secret_id
        self.register_outputs(
            {
                "session_key_id": self.session_key_id,
                "oauth_client_secret_id": self.oauth_client_secret_id,
            }
        )

    def _secret(self, name: str, args: AuthSecretsArgs) -> gcp.secretmanager.Secret:
        """A secret (no value) and the accessor grant on it."""
        secret = gcp.secretmanager.Secret(
            name,
            project=args.project,
            secret_id=name,
            labels=LABELS,
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            opts=self._child(),
        )
        self._accessors.append(
            gcp.secretmanager.SecretIamMember(
                f"{name}-accessor",
                project=args.project,
                secret_id=secret.secret_id,
                role=ACCESSOR_ROLE,
                member=args.accessor,
                opts=self._child(),
            )
        )
        return secret
