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
