"""The image's lock files agree with pyproject.toml, pin every file by hash, and hold only
what the service runs (no test, infra or dev tools)."""

from __future__ import annotations

import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.local.contract import REPO_ROOT, read_lock
from tests.local.dockerfile_replay import parse

REQUIREMENTS = REPO_ROOT / "requirements"


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def runtime_lock() -> dict[str, tuple[str, int]]:
    return read_lock(REQUIREMENTS / "runtime.txt")


def _image_environment() -> dict[str, str]:
    """Marker values of the image: Linux, CPython at the Dockerfile's Python version."""
    version = parse().args["PYTHON_VERSION"]
    return {
        "python_version": version,
        "python_full_version": f"{version}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }


def _satisfied(requirement: Requirement, lock: dict[str, tuple[str, int]]) -> None:
    name = canonicalize_name(requirement.name)
    assert name in lock, f"{requirement} is not in the lock"
    version = lock[name][0]
    assert requirement.specifier.contains(version, prereleases=True), (
        f"lock pins {name}=={version}, pyproject asks {requirement}"
    )


def test_every_pin_has_a_hash() -> None:
    for path in (REQUIREMENTS / "runtime.txt", REQUIREMENTS / "build.txt"):
        lock = read_lock(path)
        assert lock
        assert all(hashes > 0 for _version, hashes in lock.values()), path.name


def test_runtime_lock_satisfies_the_service_and_its_gcp_extra(
    pyproject: dict, runtime_lock: dict[str, tuple[str, int]]
) -> None:
    project = pyproject["project"]
    env = _image_environment()
    for raw in [*project["dependencies"], *project["optional-dependencies"]["gcp"]]:
        requirement = Requirement(raw)
        if requirement.marker is None or requirement.marker.evaluate(env):
            _satisfied(requirement, runtime_lock)
    # Extras of the direct dependencies come along: psycopg[binary], the connector's drivers.
    for name in ("psycopg-binary", "psycopg", "pymysql"):
        assert name in runtime_lock
    # One PostgreSQL driver: the connector's pg8000 is not installed (docs/benchmarks.md).
    assert "pg8000" not in runtime_lock


def test_runtime_lock_holds_no_test_infra_or_dev_tools(
    pyproject: dict, runtime_lock: dict[str, tuple[str, int]]
) -> None:
    extras = pyproject["project"]["optional-dependencies"]
    tools = {
        canonicalize_name(Requirement(raw).name)
        for extra in ("test", "infra", "dev")
        for raw in extras[extra]
        if not raw.startswith("stratus[")
    }
    assert tools & set(runtime_lock) == set()
    assert {"mlflow", "pytest", "pulumi", "ruff", "pip", "hatchling"}.isdisjoint(runtime_lock)


def test_build_lock_has_the_build_backend_and_pip(pyproject: dict) -> None:
    build_lock = read_lock(REQUIREMENTS / "build.txt")
    for raw in pyproject["build-system"]["requires"]:
        _satisfied(Requirement(raw), build_lock)
    assert "pip" in build_lock
