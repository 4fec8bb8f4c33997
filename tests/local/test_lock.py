"""The lock files agree with pyproject.toml and pin every file by hash: the image's hold only
what the service runs (no test, infra or dev tools); the dev lock holds the whole dev
environment that scripts/setup-dev.sh installs."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator

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
    for path in (
        REQUIREMENTS / "runtime.txt",
        REQUIREMENTS / "build.txt",
        REQUIREMENTS / "dev.txt",
    ):
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


def _dev_requirements(pyproject: dict, extra: str) -> Iterator[Requirement]:
    """The requirements of an extra, with the project's own extras it names expanded."""
    extras = pyproject["project"]["optional-dependencies"]
    for raw in extras[extra]:
        requirement = Requirement(raw)
        if requirement.name == pyproject["project"]["name"]:
            for named in sorted(requirement.extras):
                yield from _dev_requirements(pyproject, named)
        else:
            yield requirement


def test_dev_lock_satisfies_the_dev_environment(pyproject: dict) -> None:
    """What setup-dev.sh installs (the lock, then the project with --no-deps) is complete."""
    dev_lock = read_lock(REQUIREMENTS / "dev.txt")
    client = tomllib.loads((REPO_ROOT / "clients/stratus-auth/pyproject.toml").read_text())
    env = {**_image_environment(), "python_version": "3.11", "python_full_version": "3.11.0"}
    wanted = [
        *map(Requirement, pyproject["project"]["dependencies"]),
        *_dev_requirements(pyproject, "dev"),
        *map(Requirement, client["project"]["dependencies"]),
    ]
    for requirement in wanted:
        if requirement.marker is None or requirement.marker.evaluate(env):
            _satisfied(requirement, dev_lock)


def test_lint_tools_are_pinned_exactly(pyproject: dict) -> None:
    """A new ruff or mypy release changes what passes: they move only by a deliberate bump."""
    pinned = {
        canonicalize_name(requirement.name): requirement
        for requirement in map(Requirement, pyproject["project"]["optional-dependencies"]["dev"])
    }
    for tool in ("ruff", "mypy"):
        (spec,) = pinned[tool].specifier
        assert spec.operator == "==", f"{tool} must be pinned with ==, not {spec}"
