"""scripts/gcp-cloud-build.sh: the image is built as a dedicated service account holding only
the roles the build needs, never as the Compute Engine default account. gcloud is a stub
that records its calls (nothing here talks to Google Cloud)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gcp-cloud-build.sh"
BASH = shutil.which("bash")
DIGEST = "sha256:" + "cd" * 32
ACCOUNT = "stratus-build@my-project-1.iam.gserviceaccount.com"
IMAGE = "europe-west1-docker.pkg.dev/my-project-1/stratus-ci/stratus"
GCLOUD_STUB = f"""#!/bin/sh
echo "gcloud $*" >> "$STUB_LOG"
case "$*" in
    "builds submit"*)
        for arg in "$@"; do [ -f "$arg" ] && cat "$arg" >> "$STUB_CONFIG"; done ;;
    "artifacts docker images describe"*) echo {DIGEST} ;;
    *describe*) exit 1 ;;
esac
exit 0
"""

pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")


@pytest.fixture
def build(tmp_path: Path) -> tuple[subprocess.CompletedProcess, str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for utility in ("dirname", "sed", "mktemp", "cat", "rm"):
        found = shutil.which(utility)
        assert found is not None, utility
        (bin_dir / utility).symlink_to(found)
    (bin_dir / "gcloud").write_text(GCLOUD_STUB)
    (bin_dir / "gcloud").chmod(0o755)
    log, config = tmp_path / "calls.log", tmp_path / "cloudbuild.yaml"
    result = subprocess.run(
        [BASH, str(SCRIPT), "my-project-1", "europe-west1"],
        env={
            "PATH": str(bin_dir),
            "HOME": str(tmp_path),
            "STUB_LOG": str(log),
            "STUB_CONFIG": str(config),
            "STRATUS_IMAGE_TAG": "abc1234",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result, log.read_text(), config.read_text()


def test_syntax_and_help():
    subprocess.run([BASH, "-n", str(SCRIPT)], check=True)
    assert os.access(SCRIPT, os.X_OK)
    result = subprocess.run([BASH, str(SCRIPT), "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "PROJECT_ID REGION" in result.stdout


def test_builds_as_the_dedicated_account(build):
    _, calls, _ = build
    (submit,) = [line for line in calls.splitlines() if line.startswith("gcloud builds submit")]
    assert f"--service-account projects/my-project-1/serviceAccounts/{ACCOUNT}" in submit
    assert "--gcs-source-staging-dir gs://my-project-1-stratus-build/source" in submit
    assert "compute" not in calls  # neither the API nor the default compute account
    assert "gcloud iam service-accounts create stratus-build" in calls


def test_the_account_gets_exactly_three_narrow_roles(build):
    _, calls, _ = build
    grants = [line for line in calls.splitlines() if "add-iam-policy-binding" in line]
    assert len(grants) == 3
    scopes = {
        "roles/artifactregistry.writer": "artifacts repositories add-iam-policy-binding stratus-ci",
        "roles/storage.objectViewer": "storage buckets add-iam-policy-binding "
        "gs://my-project-1-stratus-build",
        "roles/logging.logWriter": "projects add-iam-policy-binding my-project-1",
    }
    for role, scope in scopes.items():
        (grant,) = [g for g in grants if f"--role {role}" in g]
        assert scope in grant and f"--member serviceAccount:{ACCOUNT}" in grant


def test_logs_go_to_cloud_logging_and_the_digest_is_printed(build):
    result, _, config = build
    assert "logging: CLOUD_LOGGING_ONLY" in config
    assert f'images: ["{IMAGE}:abc1234"]' in config
    assert f"pulumi config set stratus:image {IMAGE}@{DIGEST}" in result.stdout
