"""The real program (infra/__main__.py) under mocks: every resource, wired in order."""

from __future__ import annotations

import pytest

pytest.importorskip("pulumi")
pytest.importorskip("pulumi_gcp")

import infra_mocks
from infra_mocks import DIGEST, MEMBERS, PROJECT, REGION, config_for

SA = "gcp:serviceaccount/account:Account"
INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
DATABASE = "gcp:sql/database:Database"
SQL_USER = "gcp:sql/user:User"
BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
SA_IAM = "gcp:serviceaccount/iAMMember:IAMMember"
API = "gcp:projects/service:Service"
REPO = "gcp:artifactregistry/repository:Repository"
IMAGE = "docker-build:index:Image"
RUN = "gcp:cloudrunv2/service:Service"
INVOKER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"
SECRET = "gcp:secretmanager/secret:Secret"
IAM_ONLY = config_for(access="iam", members=["group:ml-team@example.com", *MEMBERS])


def test_every_resource_exists(default_graph):
    types = {r.typ for r in default_graph.resources}
    for typ in (SA, INSTANCE, DATABASE, SQL_USER, BUCKET, BUCKET_IAM, PROJECT_IAM, API, REPO):
        assert typ in types, typ
    assert {IMAGE, RUN} <= types
    components = {r.typ for r in default_graph.resources if not r.custom}
    assert components == {
        "stratus:infra:ProjectApis",
        "stratus:infra:ServiceIdentity",
        "stratus:infra:ArtifactBucket",
        "stratus:infra:Database",
        "stratus:infra:ContainerImage",
        "stratus:infra:SchemaGrant",
        "stratus:infra:AuthSecrets",
        "stratus:infra:TrackingService",
    }


def test_apis_enabled_and_left_enabled_on_destroy(default_graph):
    apis = {r.inputs["service"]: r for r in default_graph.of_type(API)}
    assert set(apis) == {
        "run.googleapis.com",
        "sqladmin.googleapis.com",
        "artifactregistry.googleapis.com",
        "iam.googleapis.com",
        "iamcredentials.googleapis.com",
        "storage.googleapis.com",
        "secretmanager.googleapis.com",  # the sign-in secrets
    }
    assert all(api.inputs["disableOnDestroy"] is False for api in apis.values())


def test_no_secret_manager_without_app_sign_in(program):
    graph = program(IAM_ONLY)
    apis = {r.inputs["service"] for r in graph.of_type(API)}
    assert "secretmanager.googleapis.com" not in apis  # no secret exists to manage
    assert not graph.of_type(SECRET)


def test_every_gcp_resource_waits_for_the_apis(default_graph):
    for resource in default_graph.resources:
        if resource.custom and resource.typ.startswith("gcp:") and resource.typ != API:
            assert default_graph.depends_on(resource, API), resource.name


def test_children_are_parented_and_named_after_their_component(default_graph):
    components = {r.urn for r in default_graph.resources if not r.custom}
    for resource in default_graph.resources:
        if resource.custom:
            assert resource.parent in components, resource.name
            assert resource.name.startswith("stratus-"), resource.name


def test_cloud_run_waits_for_its_grants_user_and_database(default_graph):
    service = default_graph.one(RUN)
    for typ in (PROJECT_IAM, BUCKET_IAM, SQL_USER, DATABASE, INSTANCE, SA, IMAGE):
        assert default_graph.depends_on(service, typ), typ
    sql_user = default_graph.named(SQL_USER, "stratus-iam-user")
    assert default_graph.depends_on(sql_user, INSTANCE)
    assert default_graph.depends_on(sql_user, SA)
    assert default_graph.depends_on(default_graph.one(IMAGE), REPO)
    assert default_graph.depends_on(default_graph.one(BUCKET_IAM), BUCKET)


def test_image_built_from_repo_dockerfile_and_deployed_by_digest(default_graph):
    image = default_graph.one(IMAGE).inputs
    assert image["push"] is True
    assert image["platforms"] == ["linux/amd64"]
    tag = image["tags"][0]
    assert tag == f"{REGION}-docker.pkg.dev/{PROJECT}/stratus/stratus:latest"
    context = (infra_mocks.REPO_ROOT / image["context"]["location"]).resolve()
    assert context == infra_mocks.REPO_ROOT
    dockerfile = (infra_mocks.REPO_ROOT / image["dockerfile"]["location"]).resolve()
    assert dockerfile == infra_mocks.REPO_ROOT / "Dockerfile"
    assert default_graph.container()["image"] == f"{tag}@{DIGEST}"
    repo = default_graph.one(REPO).inputs
    assert repo["format"] == "DOCKER" and repo["location"] == REGION


def test_prebuilt_image_skips_the_build(program):
    prebuilt = f"{REGION}-docker.pkg.dev/{PROJECT}/ci/stratus@{DIGEST}"
    graph = program(config_for(image=prebuilt))
    assert not graph.of_type(IMAGE) and not graph.of_type(REPO)
    assert graph.container()["image"] == prebuilt
    assert graph.exports["image"] == prebuilt


def test_outputs_include_the_line_researchers_paste(default_graph):
    exports = default_graph.exports
    url = exports["service_url"]
    assert url.startswith("https://stratus-") and url.endswith(".run.app")
    assert exports["mlflow_tracking_uri"] == f"export MLFLOW_TRACKING_URI={url}"
    bucket = exports["artifact_bucket"]
    assert exports["artifact_root"] == f"gs://{bucket}/artifacts"
    assert exports["cloud_sql_connection_name"].startswith(f"{PROJECT}:{REGION}:")
    assert exports["service_account_email"] == (f"stratus-run@{PROJECT}.iam.gserviceaccount.com")
    assert exports["image"].endswith(DIGEST)


def test_with_app_sign_in_the_server_decides(default_graph):
    assert default_graph.of_type(INVOKER) == []
    assert default_graph.one(RUN).inputs["invokerIamDisabled"] is True
    env = default_graph.env()
    assert env["STRATUS_AUTH_ENABLED"] == "true"
    assert env["STRATUS_MEMBERS"] == "lead@example.com,domain:example.com"
    assert env["STRATUS_DEFAULT_PERMISSION"] == "READ"
    service = default_graph.one(RUN)
    assert default_graph.depends_on(service, "gcp:secretmanager/secretVersion:SecretVersion")
    assert default_graph.depends_on(service, "gcp:secretmanager/secretIamMember:SecretIamMember")


def test_sign_in_settings_reach_the_server(program):
    graph = program(
        config_for(
            admins=["lead@example.com"],
            groups={"vision": ["a@example.com", "b@example.com"]},
            defaultPermission="no_permissions",
            iapAudience="/projects/123/locations/europe-west1/services/stratus",
        )
    )
    env = graph.env()
    assert env["STRATUS_ADMINS"] == "lead@example.com"
    assert env["STRATUS_GROUPS"] == '{"vision": ["a@example.com", "b@example.com"]}'
    assert env["STRATUS_DEFAULT_PERMISSION"] == "NO_PERMISSIONS"
    assert env["STRATUS_IAP_AUDIENCE"] == "/projects/123/locations/europe-west1/services/stratus"
    assert "STRATUS_OAUTH_CLIENT_ID" not in env
    assert set(graph.secret_env()) == {"STRATUS_SESSION_SECRET"}


def test_with_iam_access_invokers_are_exactly_the_configured_members(program):
    graph = program(IAM_ONLY)
    bindings = graph.of_type(INVOKER)
    assert sorted(b.inputs["member"] for b in bindings) == sorted(
        ["group:ml-team@example.com", *MEMBERS]
    )
    assert graph.one(RUN).inputs["invokerIamDisabled"] is False
    for binding in bindings:
        assert binding.inputs["role"] == "roles/run.invoker"
        assert binding.inputs["name"] == "stratus"
        assert graph.depends_on(binding, RUN)


def test_mysql_variant(program):
    graph = program(config_for(dbVersion="MYSQL_8_0"))
    settings = graph.one(INSTANCE).inputs["settings"]
    flags = {f["name"]: f["value"] for f in settings["databaseFlags"]}
    assert flags == {"cloudsql_iam_authentication": "on"}
    backups = settings["backupConfiguration"]
    assert backups["binaryLogEnabled"] is True and backups["enabled"] is True
    assert graph.named(SQL_USER, "stratus-iam-user").inputs["name"] == "stratus-run"
    assert graph.named(SQL_USER, "stratus-admin-user").inputs["name"] == "stratus-dbadmin"
    assert graph.one(DATABASE).inputs["charset"] == "utf8mb4"
    assert graph.env()["STRATUS_DATABASE_URL"] == "mysql+pymysql://stratus-run@/stratus"


def test_private_ip_variant(program):
    network = f"projects/{PROJECT}/global/networks/research"
    subnet = f"projects/{PROJECT}/regions/{REGION}/subnetworks/research"
    graph = program(config_for(privateNetwork=network, privateSubnetwork=subnet))
    ip = graph.one(INSTANCE).inputs["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is False and ip["privateNetwork"] == network
    template = graph.one(RUN).inputs["template"]
    assert template["vpcAccess"]["networkInterfaces"] == [
        {"network": network, "subnetwork": subnet}
    ]
    assert graph.env()["STRATUS_CLOUD_SQL_IP_TYPE"] == "private"


def test_empty_members_deploys_privately(program):
    graph = program({**config_for(access="iam"), "stratus:members": "[]"})
    assert graph.of_type(INVOKER) == []
    assert graph.one(RUN).inputs["ingress"] == "INGRESS_TRAFFIC_ALL"
