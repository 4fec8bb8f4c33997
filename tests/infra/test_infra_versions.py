"""The infra extra's floor admits no pulumi-gcp older than the arguments the program uses."""

from __future__ import annotations

import inspect
import re
import tomllib

import pytest

gcp = pytest.importorskip("pulumi_gcp")

from infra_mocks import REPO_ROOT  # noqa: E402


def _floor(package: str) -> tuple[int, ...]:
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    spec = next(s for s in extras["infra"] if re.match(rf"{package}\b", s))
    found = re.search(r">=\s*([\d.]+)", spec)
    assert found, spec
    return tuple(int(part) for part in found.group(1).split("."))


def test_pulumi_gcp_floor_has_the_arguments_the_program_passes():
    assert _floor("pulumi-gcp") >= (10, 2)
    assert "database_roles" in inspect.signature(gcp.sql.User._internal_init).parameters
    assert (
        "invoker_iam_disabled"
        in inspect.signature(gcp.cloudrunv2.Service._internal_init).parameters
    )
