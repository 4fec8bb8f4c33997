"""One ComponentResource per concern; each is built from typed Args and testable alone."""

from infra.components.apis import ProjectApis, ProjectApisArgs
from infra.components.bucket import ArtifactBucket, ArtifactBucketArgs
from infra.components.database import Database, DatabaseArgs
from infra.components.identity import ServiceIdentity, ServiceIdentityArgs
from infra.components.image import ContainerImage, ContainerImageArgs
from infra.components.schema_grant import SchemaGrant, SchemaGrantArgs
from infra.components.secrets import AuthSecrets, AuthSecretsArgs
from infra.components.tracking_service import AppAuth, TrackingService, TrackingServiceArgs

__all__ = [
    "AppAuth",
    "ArtifactBucket",
    "ArtifactBucketArgs",
    "AuthSecrets",
    "AuthSecretsArgs",
    "ContainerImage",
    "ContainerImageArgs",
    "Database",
    "DatabaseArgs",
    "ProjectApis",
    "ProjectApisArgs",
    "SchemaGrant",
    "SchemaGrantArgs",
    "ServiceIdentity",
    "ServiceIdentityArgs",
    "TrackingService",
    "TrackingServiceArgs",
]
