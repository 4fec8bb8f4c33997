"""The container image: an Artifact Registry repository, and the repo's Dockerfile built and
pushed during `pulumi up` with the docker-build provider (needs a local Docker engine with
buildx, logged in to the registry through ``gcloud auth configure-docker``).

Without local Docker, build with Cloud Build (scripts/gcp-cloud-build.sh, as a dedicated
build service account) and set ``stratus:image`` instead; this component is then not
created at all (docs/deploy.md, "Without Docker").
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker_build as docker_build
import pulumi_gcp as gcp

from infra.components._base import LABELS, StratusComponent

_Cleanup = gcp.artifactregistry.RepositoryCleanupPolicyArgs
_Condition = gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs
_KeepRecent = gcp.artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs


@dataclass(frozen=True, kw_only=True)
class ContainerImageArgs:
    project: str
    region: str
    repository_id: str
    """The Artifact Registry repository's name."""
    context: str
    """The build context (the repository root), relative to the program's working directory."""
    dockerfile: str
    """The Dockerfile, relative to the program's working directory."""
    image_name: str = "stratus"
    keep_versions: int = 10
    """Image versions kept by the cleanup policy; older ones are deleted after 30 days."""


class ContainerImage(StratusComponent):
    """An Artifact Registry repository and the image built into it."""

    repository: gcp.artifactregistry.Repository
    image: docker_build.Image
    ref: pulumi.Output[str]
    """``<registry>/<repo>/stratus:latest@sha256:<digest>``: what Cloud Run deploys."""

    def __init__(
        self, name: str, args: ContainerImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stratus:infra:ContainerImage", name, opts)
        self.repository = gcp.artifactregistry.Repository(
            f"{name}-repo",
            project=args.project,
            location=args.region,
            repository_id=args.repository_id,
            format="DOCKER",
            description="Stratus server images, built by `pulumi up`.",
            cleanup_policy_dry_run=False,
            cleanup_policies=[
                _Cleanup(
                    id="keep-recent",
                    action="KEEP",
                    most_recent_versions=_KeepRecent(keep_count=args.keep_versions),
                ),
                _Cleanup(
                    id="delete-old", action="DELETE", condition=_Condition(older_than="2592000s")
                ),
            ],
            labels=LABELS,
            opts=self._child(),
        )
        tag = pulumi.Output.concat(
            args.region,
            "-docker.pkg.dev/",
            args.project,
            "/",
            self.repository.repository_id,
            f"/{args.image_name}:latest",
        )
        self.image = docker_build.Image(
            f"{name}-image",
            context=docker_build.BuildContextArgs(location=args.context),
            dockerfile=docker_build.DockerfileArgs(location=args.dockerfile),
            platforms=[docker_build.Platform.LINUX_AMD64],
            tags=[tag],
            push=True,
            # Preview stays fast and works without Docker; `up` builds.
            build_on_preview=False,
            opts=self._child(),
        )
        # After a push, `ref` is the tag plus the digest: Cloud Run pins exactly this build.
        self.ref = self.image.ref
        self.register_outputs({"ref": self.ref})
