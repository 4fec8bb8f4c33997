"""scripts/gcp-bootstrap.sh: valid bash, and it stops with a clear message before touching
the network when something is missing. (Nothing here talks to Google Cloud.)"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gcp-bootstrap.sh"
BASH = shutil.which("bash")

pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")


def run(args: list[str], tmp_path: Path, *, tools: tuple[str, ...]) -> subprocess.CompletedProcess:
    """Run the script with a PATH holding only coreutils and stub versions of ``tools``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for utility in ("dirname", "sed"):
        found = shutil.which(utility)
        assert found is not None, utility
        (bin_dir / utility).symlink_to(found)
    for tool in tools:
        stub = bin_dir / tool
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    return subprocess.run(
        [BASH, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=30
    )


def test_syntax():
    subprocess.run([BASH, "-n", str(SCRIPT)], check=True)
    assert os.access(SCRIPT, os.X_OK)


def test_help(tmp_path):
    result = run(["--help"], tmp_path, tools=())
    assert result.returncode == 0
    assert "PROJECT_ID REGION [STACK]" in result.stdout


def test_usage_error_without_arguments(tmp_path):
    result = run([], tmp_path, tools=())
    assert result.returncode == 2
    assert "PROJECT_ID REGION" in result.stderr


def test_rejects_a_malformed_project_id(tmp_path):
    result = run(["My_Project", "europe-west1"], tmp_path, tools=("gcloud", "pulumi"))
    assert result.returncode == 1
    assert "does not look like a project ID" in result.stderr


def test_missing_gcloud_is_named(tmp_path):
    result = run(["my-project-1", "europe-west1"], tmp_path, tools=("pulumi",))
    assert result.returncode == 1
    assert "gcloud is not installed" in result.stderr


def test_missing_pulumi_is_named(tmp_path):
    result = run(["my-project-1", "europe-west1"], tmp_path, tools=("gcloud",))
    assert result.returncode == 1
    assert "pulumi is not installed" in result.stderr


VENV_PYTHON = SCRIPT.parents[1] / ".venv" / "bin" / "python"
GCLOUD_STUB = """#!/bin/sh
echo "gcloud $*" >> "$STUB_LOG"
case "$*" in
    "auth list"*) echo lead@example.com ;;
esac
exit 0
"""
PULUMI_STUB = """#!/bin/sh
echo "pulumi $* [backend=$PULUMI_BACKEND_URL]" >> "$STUB_LOG"
case "$1 $2" in
    "stack select") exit 1 ;;
esac
exit 0
"""


def bootstrap(tmp_path: Path, env: dict[str, str] | None = None) -> tuple[str, str]:
    """Run the whole script against recording gcloud and pulumi stubs; (log, env file)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for utility in ("dirname", "sed", "mkdir", "cat", "grep"):
        found = shutil.which(utility)
        assert found is not None, utility
        (bin_dir / utility).symlink_to(found)
    for name, text in (("gcloud", GCLOUD_STUB), ("pulumi", PULUMI_STUB)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log, env_file = tmp_path / "calls.log", tmp_path / "deploy.env"
    result = subprocess.run(
        [BASH, str(SCRIPT), "my-project-1", "europe-west1", "prod"],
        env={
            "PATH": str(bin_dir),
            "HOME": str(tmp_path),
            "STUB_LOG": str(log),
            "STRATUS_DEPLOY_ENV": str(env_file),
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "stores no secrets" not in result.stdout + result.stderr
    return log.read_text(), env_file.read_text()


needs_venv = pytest.mark.skipif(
    subprocess.run(
        [str(VENV_PYTHON), "-c", "import pulumi, pulumi_gcp, pulumi_docker_build"],
        capture_output=True,
    ).returncode
    != 0
    if VENV_PYTHON.exists()
    else True,
    reason="the repository's .venv with the infra extra is needed by the script",
)

KMS = "gcpkms://projects/my-project-1/locations/europe-west1/keyRings/stratus-pulumi/cryptoKeys/state-secrets"


@needs_venv
def test_state_secrets_are_encrypted_with_a_kms_key_the_lead_can_use(tmp_path):
    calls, _ = bootstrap(tmp_path)
    assert "gcloud services enable" in calls and "cloudkms.googleapis.com" in calls
    assert "gcloud kms keys add-iam-policy-binding state-secrets" in calls
    assert "--member user:lead@example.com" in calls
    assert "--role roles/cloudkms.cryptoKeyEncrypterDecrypter" in calls
    assert f"pulumi stack init prod --secrets-provider {KMS}" in calls


@needs_venv
def test_the_global_pulumi_login_is_left_alone(tmp_path):
    calls, env_file = bootstrap(tmp_path)
    assert "pulumi login" not in calls
    for line in calls.splitlines():
        if line.startswith("pulumi "):
            assert line.endswith("[backend=gs://my-project-1-pulumi-state]"), line
    assert "export PULUMI_BACKEND_URL=gs://my-project-1-pulumi-state" in env_file
    assert "export PULUMI_STACK=prod" in env_file
    assert "export CLOUDSDK_CORE_PROJECT=my-project-1" in env_file


@needs_venv
def test_gcloud_project_and_adc_quota_project_are_set(tmp_path):
    calls, _ = bootstrap(tmp_path)
    assert "gcloud config set project my-project-1" in calls
    assert "gcloud auth application-default set-quota-project my-project-1" in calls
    assert "pulumi config set gcp:project my-project-1" in calls


@needs_venv
def test_pulumi_cloud_keeps_its_own_secrets_and_login(tmp_path):
    calls, env_file = bootstrap(tmp_path, {"STRATUS_STATE_BACKEND": "pulumi-cloud"})
    assert "gcloud kms" not in calls and "pulumi login" not in calls
    assert "pulumi stack init prod --secrets-provider default" in calls
    assert "export PULUMI_BACKEND_URL=https://api.pulumi.com" in env_file
