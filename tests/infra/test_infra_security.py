"""Security properties of the whole graph: private, password-less, backed up, least privilege.

"Private" has two shapes (stratus:access): with app sign-in (the default) Cloud Run's
invoker check is off and the server authenticates every request itself; with ``iam`` only
the members may invoke the service and the server's own auth is off. No IAM member is ever
public (``allUsers``, ``allAuthenticatedUsers``): organizations that restrict member domains
refuse such bindings, so neither shape may need one.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytest.importorskip("pulumi")
pytest.importorskip("pulumi_gcp")

from infra_mocks import MEMBERS, PROJECT, RANDOM_VALUE, config_for
from pulumi.runtime import rpc

INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
INVOKER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"
SECRET = "gcp:secretmanager/secret:Secret"
SECRET_VERSION = "gcp:secretmanager/secretVersion:SecretVersion"
SECRET_IAM = "gcp:secretmanager/secretIamMember:SecretIamMember"
IAM_ONLY = config_for(access="iam", members=["group:ml-team@example.com", *MEMBERS])
SECRETISH = re.compile(r"password|passwd|secret|credential|private_?key", re.IGNORECASE)


def walk(value: Any, path: str = ""):
    """Yield (path, leaf) for every leaf of nested inputs."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")
    else:
        yield path, value


PUBLIC = re.compile(r"allUsers|allAuthenticatedUsers")
#: Every shape of the graph a lead can configure that changes who is bound to what.
SHAPES = {
    "default": {},
    "iam": IAM_ONLY,
    "oauth": config_for(oauthClientId="1234-web.apps.googleusercontent.com"),
    "signing": config_for(signing=True),
    "mysql-private": config_for(
        dbVersion="MYSQL_8_0",
        privateNetwork=f"projects/{PROJECT}/global/networks/n",
        privateSubnetwork=f"projects/{PROJECT}/regions/europe-west1/subnetworks/s",
    ),
}


def _public_grants(graph) -> list[tuple[str, str, str]]:
    """Every place a public IAM member appears, in any input of any resource."""
    return [
        (resource.typ, resource.name, path)
        for resource in graph.resources
        for path, leaf in walk(resource.inputs)
        if isinstance(leaf, str) and PUBLIC.search(leaf)
    ]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_no_public_iam_member_anywhere(program, shape):
    assert _public_grants(program(SHAPES[shape])) == []


def test_with_app_sign_in_the_invoker_check_is_off_not_public(default_graph):
    assert default_graph.of_type(INVOKER) == []
    service = default_graph.one("gcp:cloudrunv2/service:Service").inputs
    assert service["invokerIamDisabled"] is True
    env = default_graph.env()
    assert env["STRATUS_AUTH_ENABLED"] == "true"
    assert env["STRATUS_MEMBERS"] == "lead@example.com,domain:example.com"
    assert set(default_graph.secret_env()) == {"STRATUS_SESSION_SECRET"}


def test_with_iam_access_nothing_is_public_and_app_auth_is_off(program):
    graph = program(IAM_ONLY)
    assert graph.one("gcp:cloudrunv2/service:Service").inputs["invokerIamDisabled"] is False
    assert graph.env()["STRATUS_AUTH_ENABLED"] == "false"  # explicit: K_SERVICE would turn it on
    assert graph.secret_env() == {}
    assert not graph.of_type(SECRET)


@pytest.mark.parametrize("member", ["allUsers", "allAuthenticatedUsers"])
def test_public_members_are_refused(program, member):
    from infra.errors import StackConfigError

    for access in ("app", "iam"):
        with pytest.raises(StackConfigError, match="never public"):
            program(config_for(access=access, members=["user:a@example.com", member]))


def test_bucket_is_private_uniform_and_recoverable(default_graph):
    bucket = default_graph.one("gcp:storage/bucket:Bucket").inputs
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["softDeletePolicy"]["retentionDurationSeconds"] == 7 * 24 * 3600
    assert bucket["location"] == "EUROPE-WEST1"  # the service's region
    assert bucket["forceDestroy"] is False


def _is_secret_reference(typ: str, path: str) -> bool:
    """Paths that name a Secret Manager secret (its id), never a secret value."""
    if typ in (SECRET, SECRET_IAM) and path == ".secretId":
        return True
    return (typ == SECRET_VERSION and path == ".secret") or ".secretKeyRef." in path


def _generated_secret(value: object) -> bool:
    """A value Pulumi marks secret and pulumi-random made: never one from config."""
    return value == {rpc._special_sig_key: rpc._special_secret_sig, "value": RANDOM_VALUE}


def test_no_password_or_secret_anywhere(default_graph):
    for resource in default_graph.resources:
        for path, leaf in walk(resource.inputs):
            if not SECRETISH.search(path) or _is_secret_reference(resource.typ, path):
                continue
            if resource.typ == SECRET_VERSION and path.startswith(".secretData"):
                assert _generated_secret(resource.inputs["secretData"])
                continue
            assert leaf in (None, "", []), (resource.name, path)
    instance = default_graph.one(INSTANCE).inputs
    assert "rootPassword" not in instance
    for user in default_graph.of_type("gcp:sql/user:User"):
        assert user.inputs["type"] == "CLOUD_IAM_SERVICE_ACCOUNT"
        assert "password" not in user.inputs
    env = default_graph.env()
    assert not [name for name in env if SECRETISH.search(name)]
    assert not [v for v in env.values() if re.match(r"^\w+(\+\w+)?://[^/@]*:[^/@]*@", v)]
    for name, ref in default_graph.secret_env().items():
        assert SECRETISH.search(name) and ref["version"] == "latest"


def _plain_occurrences(value: Any, path: str = "") -> list[str]:
    """Paths where the generated key appears outside a Pulumi secret."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return []  # encrypted by the stack's secrets provider in the state
        return [p for key, item in value.items() for p in _plain_occurrences(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _plain_occurrences(item, f"{path}[{i}]")]
    return [path] if isinstance(value, str) and RANDOM_VALUE in value else []


@pytest.mark.parametrize("config", [{}, config_for(oauthClientId="x-web.apps.example")])
def test_no_secret_value_is_plain_in_the_state(program, config):
    """The state keeps every input and output; the session key must be a secret in all of
    them (the bootstrap's KMS secrets provider encrypts secrets), and never exported."""
    graph = program(config)
    (generator,) = graph.of_type("random:index/randomPassword:RandomPassword")
    assert "result" in generator.additional_secret_outputs
    (version,) = graph.of_type(SECRET_VERSION)
    assert _generated_secret(version.inputs["secretData"])
    for resource in graph.resources:
        assert _plain_occurrences(resource.inputs) == [], resource.name
    assert _plain_occurrences(graph.exports) == []


def test_secrets_are_readable_by_the_service_alone(program):
    graph = program(config_for(oauthClientId="1234-web.apps.googleusercontent.com"))
    ids = {secret.inputs["secretId"] for secret in graph.of_type(SECRET)}
    assert ids == {"stratus-session-key", "stratus-oauth-client-secret"}
    member = f"serviceAccount:stratus-run@{PROJECT}.iam.gserviceaccount.com"
    grants = {
        (g.inputs["secretId"], g.inputs["role"], g.inputs["member"])
        for g in graph.of_type(SECRET_IAM)
    }
    assert grants == {(i, "roles/secretmanager.secretAccessor", member) for i in ids}
    assert graph.secret_env() == {
        "STRATUS_SESSION_SECRET": {"secret": "stratus-session-key", "version": "latest"},
        "STRATUS_OAUTH_CLIENT_SECRET": {
            "secret": "stratus-oauth-client-secret",
            "version": "latest",
        },
    }
    assert graph.env()["STRATUS_OAUTH_CLIENT_ID"] == "1234-web.apps.googleusercontent.com"
    (version,) = graph.of_type(SECRET_VERSION)
    assert _generated_secret(version.inputs["secretData"])


def test_backups_pitr_and_deletion_protection_are_on(default_graph):
    instance = default_graph.one(INSTANCE).inputs
    assert instance["deletionProtection"] is True
    settings = instance["settings"]
    assert settings["deletionProtectionEnabled"] is True
    backups = settings["backupConfiguration"]
    assert backups["enabled"] is True
    assert backups["pointInTimeRecoveryEnabled"] is True
    assert backups["transactionLogRetentionDays"] == 7
    assert backups["backupRetentionSettings"]["retainedBackups"] == 8
    assert default_graph.one("gcp:cloudrunv2/service:Service").inputs["deletionProtection"] is True


def test_turning_deletion_protection_off_is_explicit(program):
    graph = program(config_for(deletionProtection=False))
    instance = graph.one(INSTANCE).inputs
    assert instance["deletionProtection"] is False
    assert instance["settings"]["deletionProtectionEnabled"] is False
    assert graph.one("gcp:storage/bucket:Bucket").inputs["forceDestroy"] is True
    assert instance["settings"]["backupConfiguration"]["enabled"] is True


def test_database_is_iam_only_ssl_enforced_and_unexposed(default_graph):
    instance = default_graph.one(INSTANCE).inputs
    assert instance["databaseVersion"] == "POSTGRES_16"
    settings = instance["settings"]
    flags = {f["name"]: f["value"] for f in settings["databaseFlags"]}
    assert flags["cloudsql.iam_authentication"] == "on"
    ip = settings["ipConfiguration"]
    assert ip["sslMode"] in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")
    assert ip.get("authorizedNetworks", []) == []
    assert settings["connectorEnforcement"] == "REQUIRED"


def test_service_account_is_dedicated_with_least_privilege(default_graph):
    account = default_graph.named("gcp:serviceaccount/account:Account", "stratus-sa").inputs
    assert account["accountId"] == "stratus-run"
    member = f"serviceAccount:stratus-run@{PROJECT}.iam.gserviceaccount.com"
    project_grants = [
        r
        for r in default_graph.of_type("gcp:projects/iAMMember:IAMMember")
        if r.inputs["member"] == member
    ]
    assert {r.inputs["role"] for r in project_grants} == {
        "roles/cloudsql.client",
        "roles/cloudsql.instanceUser",
    }
    instance = default_graph.exports["cloud_sql_connection_name"].split(":")[2]
    for grant in project_grants:  # conditioned on the stack's instance: no other is reachable
        assert (
            f"'projects/{PROJECT}/instances/{instance}'" in grant.inputs["condition"]["expression"]
        )
    bucket_grant = default_graph.one("gcp:storage/bucketIAMMember:BucketIAMMember").inputs
    assert bucket_grant["role"] == "roles/storage.objectUser"
    assert bucket_grant["member"] == member
    assert bucket_grant["bucket"] == default_graph.exports["artifact_bucket"]  # this bucket only
    assert not default_graph.of_type("gcp:serviceaccount/iAMMember:IAMMember")  # signing off


def test_no_default_compute_account_and_no_project_wide_storage(default_graph):
    template = default_graph.one("gcp:cloudrunv2/service:Service").inputs["template"]
    assert template["serviceAccount"] == f"stratus-run@{PROJECT}.iam.gserviceaccount.com"
    for resource in default_graph.resources:
        for _, leaf in walk(resource.inputs):
            if isinstance(leaf, str):
                assert "-compute@developer.gserviceaccount.com" not in leaf
    for grant in default_graph.of_type("gcp:projects/iAMMember:IAMMember"):
        assert not grant.inputs["role"].startswith("roles/storage."), grant.inputs["role"]


def test_signing_grants_token_creator_on_itself_only(program):
    graph = program(config_for(signing=True))
    grant = graph.one("gcp:serviceaccount/iAMMember:IAMMember").inputs
    email = f"stratus-run@{PROJECT}.iam.gserviceaccount.com"
    assert grant["role"] == "roles/iam.serviceAccountTokenCreator"
    assert grant["member"] == f"serviceAccount:{email}"
    assert grant["serviceAccountId"] == f"projects/{PROJECT}/serviceAccounts/{email}"


def test_probes_identity_and_scaling_of_the_service(default_graph):
    service = default_graph.one("gcp:cloudrunv2/service:Service").inputs
    template = service["template"]
    container = default_graph.container()
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["resources"]["startupCpuBoost"] is True
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "512Mi"}
    assert container["ports"] == {"name": "h2c", "containerPort": 8080}
    assert template["scaling"] == {"minInstanceCount": 0, "maxInstanceCount": 4}
    assert template["maxInstanceRequestConcurrency"] == 80
    # The server's own bound on requests in flight agrees with Cloud Run's concurrency.
    assert default_graph.env()["STRATUS_MAX_CONCURRENT_REQUESTS"] == "80"


def test_http2_off_uses_http1_port(program):
    graph = program(config_for(http2=False))
    assert graph.container()["ports"]["name"] == "http1"


def test_the_server_believes_cloud_runs_front_end_only(default_graph):
    """The one server speaks h2c and HTTP/1.1 alike; no switch is needed for the port name.
    The container is reachable through Cloud Run's front end alone, whose forwarded
    headers carry the client's address and scheme."""
    assert default_graph.container()["ports"]["name"] == "h2c"
    env = default_graph.env()
    assert "STRATUS_HTTP2" not in env
    assert env["STRATUS_FORWARDED_ALLOW_IPS"] == "*"


JOB = "gcp:cloudrunv2/job:Job"
ADMIN = f"stratus-dbadmin@{PROJECT}.iam.gserviceaccount.com"


def test_the_servers_database_user_is_no_superuser(default_graph):
    server = default_graph.named("gcp:sql/user:User", "stratus-iam-user").inputs
    assert server["name"] == f"stratus-run@{PROJECT}.iam"
    assert server.get("databaseRoles", []) == []  # not cloudsqlsuperuser
    admin = default_graph.named("gcp:sql/user:User", "stratus-admin-user").inputs
    assert admin["name"] == f"stratus-dbadmin@{PROJECT}.iam"
    assert admin["databaseRoles"] == ["cloudsqlsuperuser"]


def test_a_one_shot_job_grants_the_server_user_what_migrations_need(default_graph):
    job = default_graph.one(JOB)
    template = job.inputs["template"]["template"]
    assert template["serviceAccount"] == ADMIN  # the privileged account, not the server's
    (container,) = template["containers"]
    assert container["commands"] == ["stratus"]
    assert container["args"] == ["db", "grant", f"stratus-run@{PROJECT}.iam"]
    assert container["image"] == default_graph.container()["image"]
    env = {e["name"]: e["value"] for e in container["envs"]}
    assert env["STRATUS_DATABASE_URL"] == (
        f"postgresql+psycopg://stratus-dbadmin%40{PROJECT}.iam@/stratus"
    )
    assert env["STRATUS_CLOUD_SQL_INSTANCE"] == default_graph.exports["cloud_sql_connection_name"]
    assert job.inputs["runExecutionToken"]  # `pulumi up` waits for the execution to succeed
    service = default_graph.one("gcp:cloudrunv2/service:Service")
    assert job.urn in service.dependencies  # the first revision migrates after the grant
    assert default_graph.depends_on(job, "gcp:sql/user:User")
    assert default_graph.depends_on(job, "gcp:projects/iAMMember:IAMMember")


def test_the_admin_account_serves_nothing_and_reaches_only_this_instance(default_graph):
    service = default_graph.one("gcp:cloudrunv2/service:Service").inputs
    assert service["template"]["serviceAccount"] != ADMIN
    grants = [
        g
        for g in default_graph.of_type("gcp:projects/iAMMember:IAMMember")
        if g.inputs["member"] == f"serviceAccount:{ADMIN}"
    ]
    assert {g.inputs["role"] for g in grants} == {
        "roles/cloudsql.client",
        "roles/cloudsql.instanceUser",
    }
    for grant in grants:
        assert "resource.name == 'projects/" in grant.inputs["condition"]["expression"]
    for bucket_grant in default_graph.of_type("gcp:storage/bucketIAMMember:BucketIAMMember"):
        assert bucket_grant.inputs["member"] != f"serviceAccount:{ADMIN}"


def test_the_grant_job_uses_the_private_network_too(program):
    network = f"projects/{PROJECT}/global/networks/n"
    subnet = f"projects/{PROJECT}/regions/europe-west1/subnetworks/s"
    graph = program(config_for(privateNetwork=network, privateSubnetwork=subnet))
    template = graph.one(JOB).inputs["template"]["template"]
    assert template["vpcAccess"]["networkInterfaces"] == [
        {"network": network, "subnetwork": subnet}
    ]
    env = {e["name"]: e["value"] for e in template["containers"][0]["envs"]}
    assert env["STRATUS_CLOUD_SQL_IP_TYPE"] == "private"
