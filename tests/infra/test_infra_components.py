"""Each component built alone, from its typed Args, under the same recording mocks."""

from __future__ import annotations

import pytest

pytest.importorskip("pulumi")
pytest.importorskip("pulumi_gcp")

import pulumi
from infra_mocks import DIGEST, PROJECT, REGION, build, install

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
    ServiceIdentity,
    ServiceIdentityArgs,
    TrackingService,
    TrackingServiceArgs,
)
from infra.components.database import iam_user_name
from infra.components.tracking_service import deterministic_url
from infra.stack import database_url

EMAIL = f"svc-run@{PROJECT}.iam.gserviceaccount.com"
ADMIN_EMAIL = f"svc-dbadmin@{PROJECT}.iam.gserviceaccount.com"
IMAGE = f"{REGION}-docker.pkg.dev/{PROJECT}/stratus/stratus@{DIGEST}"
SERVICE_URL = deterministic_url("svc", "123456789012", REGION)


def test_children_wait_for_the_components_depends_on():
    def program():
        apis = ProjectApis("svc", ProjectApisArgs(project=PROJECT))
        ArtifactBucket(
            "svc",
            ArtifactBucketArgs(
                project=PROJECT, location=REGION, object_user=f"serviceAccount:{EMAIL}"
            ),
            pulumi.ResourceOptions(depends_on=[apis]),
        )

    graph = build(install(), program)
    api_urns = {r.urn for r in graph.of_type("gcp:projects/service:Service")}
    assert len(api_urns) == 6
    for typ in ("gcp:storage/bucket:Bucket", "gcp:storage/bucketIAMMember:BucketIAMMember"):
        assert api_urns <= graph.one(typ).dependencies


def test_identity_alone():
    graph = build(
        install(),
        lambda: ServiceIdentity("svc", ServiceIdentityArgs(project=PROJECT, account_id="svc-run")),
    )
    assert graph.one("gcp:serviceaccount/account:Account").inputs["accountId"] == "svc-run"
    assert graph.of_type("gcp:projects/iAMMember:IAMMember") == []  # nothing project-wide
    assert {r.name for r in graph.resources} >= {"svc", "svc-sa"}


def test_bucket_alone_with_lifecycle_and_versioning():
    args = ArtifactBucketArgs(
        project=PROJECT,
        location=REGION,
        object_user=f"serviceAccount:{EMAIL}",
        prefix="mlflow",
        versioning=True,
        nearline_after_days=30,
        delete_after_days=365,
    )
    captured = {}

    def program():
        bucket = ArtifactBucket("svc", args)
        return bucket.artifact_root.apply(lambda root: captured.update(root=root))

    graph = build(install(), program)
    bucket = graph.one("gcp:storage/bucket:Bucket").inputs
    assert bucket["versioning"] == {"enabled": True}
    actions = [rule["action"]["type"] for rule in bucket["lifecycleRules"]]
    assert actions == ["SetStorageClass", "Delete", "Delete"]
    assert captured["root"] == "gs://svc-bucket-a1b2c3d/mlflow"


def test_database_alone_postgres():
    captured = {}

    def program():
        db = Database(
            "svc",
            DatabaseArgs(
                project=PROJECT, region=REGION, iam_user_email=EMAIL, admin_email=ADMIN_EMAIL
            ),
        )
        return pulumi.Output.all(db.connection_name, db.user_name).apply(
            lambda pair: captured.update(connection=pair[0], user=pair[1])
        )

    graph = build(install(), program)
    settings = graph.one("gcp:sql/databaseInstance:DatabaseInstance").inputs["settings"]
    assert settings["tier"] == "db-custom-1-3840"
    assert settings["edition"] == "ENTERPRISE"
    assert settings["availabilityType"] == "ZONAL"
    assert settings["diskAutoresize"] is True
    assert graph.one("gcp:sql/database:Database").inputs["name"] == "stratus"
    assert captured == {
        "connection": f"{PROJECT}:{REGION}:svc-instance-a1b2c3d",
        "user": f"svc-run@{PROJECT}.iam",
    }


def test_auto_resized_disk_is_never_shrunk_by_a_later_up(program):
    """Cloud SQL grows the disk past dbDiskSizeGb; the size is then ignored on update, so a
    later `pulumi up` neither shrinks (refused by the API) nor replaces the instance."""
    instance = program().one("gcp:sql/databaseInstance:DatabaseInstance")
    assert instance.inputs["settings"]["diskAutoresize"] is True
    assert instance.inputs["settings"]["diskSize"] == 10  # only the initial size
    assert "settings.diskSize" in instance.ignore_changes


def test_fixed_size_disk_is_managed(program):
    from infra_mocks import config_for

    graph = program(config_for(dbDiskAutoresize=False, dbDiskSizeGb=20))
    instance = graph.one("gcp:sql/databaseInstance:DatabaseInstance")
    assert instance.inputs["settings"]["diskSize"] == 20
    assert instance.ignore_changes == []


def test_database_grants_its_cloud_sql_roles_on_itself_only():
    graph = build(
        install(),
        lambda: Database(
            "svc",
            DatabaseArgs(
                project=PROJECT, region=REGION, iam_user_email=EMAIL, admin_email=ADMIN_EMAIL
            ),
        ),
    )
    grants = graph.of_type("gcp:projects/iAMMember:IAMMember")
    assert sorted((g.inputs["member"], g.inputs["role"]) for g in grants) == [
        (f"serviceAccount:{account}", role)
        for account in (ADMIN_EMAIL, EMAIL)
        for role in ("roles/cloudsql.client", "roles/cloudsql.instanceUser")
    ]
    for grant in grants:
        assert grant.inputs["condition"]["expression"] == (
            f"resource.name == 'projects/{PROJECT}/instances/svc-instance-a1b2c3d' "
            "&& resource.type == 'sqladmin.googleapis.com/Instance'"
        )
        assert grant.inputs["condition"]["title"]
        assert graph.depends_on(grant, "gcp:sql/databaseInstance:DatabaseInstance")


def test_database_alone_high_availability():
    args = DatabaseArgs(
        project=PROJECT,
        region=REGION,
        iam_user_email=EMAIL,
        admin_email=ADMIN_EMAIL,
        high_availability=True,
    )
    graph = build(install(), lambda: Database("svc", args))
    settings = graph.one("gcp:sql/databaseInstance:DatabaseInstance").inputs["settings"]
    assert settings["availabilityType"] == "REGIONAL"


def test_iam_user_names_and_urls():
    assert iam_user_name(EMAIL, "postgres") == f"svc-run@{PROJECT}.iam"
    assert iam_user_name(EMAIL, "mysql") == "svc-run"
    pg = database_url(f"svc-run@{PROJECT}.iam", "stratus", postgres=True)
    assert pg == f"postgresql+psycopg://svc-run%40{PROJECT}.iam@/stratus"
    assert database_url("svc-run", "db", postgres=False) == "mysql+pymysql://svc-run@/db"


def test_image_alone():
    args = ContainerImageArgs(
        project=PROJECT,
        region=REGION,
        repository_id="svc",
        context="..",
        dockerfile="../Dockerfile",
    )
    captured = {}

    def program():
        image = ContainerImage("svc", args)
        return image.ref.apply(lambda ref: captured.update(ref=ref))

    graph = build(install(), program)
    assert graph.one("gcp:artifactregistry/repository:Repository").inputs["repositoryId"] == "svc"
    built = graph.one("docker-build:index:Image").inputs
    assert built["buildOnPreview"] is False
    assert built["dockerfile"] == {"location": "../Dockerfile"}
    assert captured["ref"] == f"{REGION}-docker.pkg.dev/{PROJECT}/svc/stratus:latest@{DIGEST}"


def test_tracking_service_alone():
    args = TrackingServiceArgs(
        project=PROJECT,
        region=REGION,
        service_name="svc",
        service_url=SERVICE_URL,
        image=IMAGE,
        service_account_email=EMAIL,
        database_url="postgresql+psycopg://u@/db",
        artifact_root="gs://b/artifacts",
        cloud_sql_instance=f"{PROJECT}:{REGION}:i",
        invokers=["group:a@example.com", "user:b@example.com"],
        cpu="2",
        memory="1Gi",
        min_instances=1,
        max_instances=3,
        concurrency=40,
    )
    captured = {}

    def program():
        service = TrackingService("svc", args)
        return service.url.apply(lambda url: captured.update(url=url))

    graph = build(install(), program)
    template = graph.one("gcp:cloudrunv2/service:Service").inputs["template"]
    assert template["serviceAccount"] == EMAIL
    assert template["scaling"] == {"minInstanceCount": 1, "maxInstanceCount": 3}
    assert template["maxInstanceRequestConcurrency"] == 40
    assert graph.container()["resources"]["limits"] == {"cpu": "2", "memory": "1Gi"}
    assert graph.container()["image"] == IMAGE
    names = sorted(
        r.name for r in graph.of_type("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    )
    assert names == ["svc-invoker-group-a-example-com", "svc-invoker-user-b-example-com"]
    assert captured["url"] == SERVICE_URL
    env = graph.env()
    assert "STRATUS_AUTH_AUDIENCES" not in env  # the server's auth is off with IAM access
    assert env["STRATUS_FORWARDED_ALLOW_IPS"] == "*"


def test_auth_secrets_alone():
    member = f"serviceAccount:{EMAIL}"
    graph = build(
        install(),
        lambda: AuthSecrets("svc", AuthSecretsArgs(project=PROJECT, accessor=member)),
    )
    secrets = graph.of_type("gcp:secretmanager/secret:Secret")
    assert sorted(s.inputs["secretId"] for s in secrets) == [
        "svc-oauth-client-secret",
        "svc-session-key",
    ]
    assert all(s.inputs["replication"] == {"auto": {}} for s in secrets)
    grants = graph.of_type("gcp:secretmanager/secretIamMember:SecretIamMember")
    assert {(g.inputs["role"], g.inputs["member"]) for g in grants} == {
        ("roles/secretmanager.secretAccessor", member)
    }
    assert graph.one("random:index/randomPassword:RandomPassword").inputs["length"] == 64
    version = graph.one("gcp:secretmanager/secretVersion:SecretVersion")
    assert graph.depends_on(version, "random:index/randomPassword:RandomPassword")


def test_tracking_service_with_app_sign_in():
    args = TrackingServiceArgs(
        project=PROJECT,
        region=REGION,
        service_name="svc",
        service_url=SERVICE_URL,
        image=IMAGE,
        service_account_email=EMAIL,
        database_url="postgresql+psycopg://u@/db",
        artifact_root="gs://b/artifacts",
        cloud_sql_instance=f"{PROJECT}:{REGION}:i",
        invokers=["user:b@example.com"],  # not bound: the server checks members itself
        app_auth=AppAuth(
            session_key_secret="svc-session-key",
            members=["b@example.com"],
            oauth_client_id="web.apps.googleusercontent.com",
            oauth_client_secret_secret="svc-oauth-client-secret",
        ),
    )
    graph = build(install(), lambda: TrackingService("svc", args))
    members = [
        r.inputs["member"]
        for r in graph.of_type("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    ]
    assert members == []  # Cloud Run's invoker check is off instead; nothing public in IAM
    assert graph.one("gcp:cloudrunv2/service:Service").inputs["invokerIamDisabled"] is True
    assert graph.env()["STRATUS_MEMBERS"] == "b@example.com"
    assert graph.env()["STRATUS_AUTH_AUDIENCES"] == (
        f"{SERVICE_URL},web.apps.googleusercontent.com"
    )
    assert graph.env()["STRATUS_OAUTH_CLIENT_ID"] == "web.apps.googleusercontent.com"
    assert graph.secret_env()["STRATUS_OAUTH_CLIENT_SECRET"]["secret"] == (
        "svc-oauth-client-secret"
    )
