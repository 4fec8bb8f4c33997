"""The artifact bucket: private, recoverable, in the service's region."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.components._base import LABELS, StratusComponent

OBJECT_ROLE = "roles/storage.objectUser"
_DAY = 24 * 3600


@dataclass(frozen=True, kw_only=True)
class ArtifactBucketArgs:
    project: str
    """The project that owns the bucket."""
    location: str
    """The region, the same as Cloud Run's and Cloud SQL's."""
    object_user: pulumi.Input[str]
    """The one member given object read/write on this bucket (the service account)."""
    prefix: str = "artifacts"
    """The folder under which the service stores artifacts."""
    soft_delete_days: int = 7
    """How long deleted objects stay restorable (0 turns soft delete off)."""
    versioning: bool = False
    """Keep overwritten objects as noncurrent versions too."""
    nearline_after_days: int = 0
    """Move artifacts to Nearline after this many days (0: never)."""
    delete_after_days: int = 0
    """Delete artifacts after this many days (0: never)."""
    force_destroy: bool = False
    """Let `pulumi destroy` delete a bucket that still holds artifacts."""


class ArtifactBucket(StratusComponent):
    """A GCS bucket with uniform access, public access prevention and soft delete."""

    bucket: gcp.storage.Bucket
    name: pulumi.Output[str]
    artifact_root: pulumi.Output[str]
    """``gs://<bucket>/<prefix>``: the service's STRATUS_ARTIFACT_ROOT."""
    binding: gcp.storage.BucketIAMMember

    def __init__(
        self, name: str, args: ArtifactBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stratus:infra:ArtifactBucket", name, opts)
        self.bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            project=args.project,
            location=args.location.upper(),
            storage_class="STANDARD",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            soft_delete_policy=gcp.storage.BucketSoftDeletePolicyArgs(
                retention_duration_seconds=args.soft_delete_days * _DAY
            ),
            versioning=gcp.storage.BucketVersioningArgs(enabled=args.versioning),
            lifecycle_rules=_lifecycle_rules(args),
            force_destroy=args.force_destroy,
            labels=LABELS,
            opts=self._child(),
        )
        self.name = self.bucket.name
        prefix = f"/{args.prefix}" if args.prefix else ""
        self.artifact_root = pulumi.Output.concat("gs://", self.bucket.name, prefix)
        self.binding = gcp.storage.BucketIAMMember(
            f"{name}-object-user",
            bucket=self.bucket.name,
            role=OBJECT_ROLE,
            member=args.object_user,
            opts=self._child(),
        )
        self.register_outputs({"name": self.name, "artifact_root": self.artifact_root})


def _lifecycle_rules(args: ArtifactBucketArgs) -> list[gcp.storage.BucketLifecycleRuleArgs]:
    rules = []
    if args.nearline_after_days:
        rules.append(
            gcp.storage.BucketLifecycleRuleArgs(
                action=gcp.storage.BucketLifecycleRuleActionArgs(
                    type="SetStorageClass", storage_class="NEARLINE"
                ),
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                    age=args.nearline_after_days, matches_storage_classes=["STANDARD"]
                ),
            )
        )
    if args.delete_after_days:
        rules.append(
            gcp.storage.BucketLifecycleRuleArgs(
                action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=args.delete_after_days),
            )
        )
    if args.versioning:
        # Noncurrent versions are only a safety net: drop them after 30 days.
        rules.append(
            gcp.storage.BucketLifecycleRuleArgs(
                action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                    days_since_noncurrent_time=30, with_state="ARCHIVED"
                ),
            )
        )
    return rules
