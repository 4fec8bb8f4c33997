"""The path gate: every traversal trick is refused before any I/O."""

from __future__ import annotations

import pytest

from service.artifacts import artifact_path, proxied_path
from service.errors import InvalidParameterValue


@pytest.mark.parametrize(
    "raw",
    [
        "1/run/artifacts/a.txt",
        "1/models/m-0123/artifacts/MLmodel",
        "1/traces/tr-1/artifacts/traces.json",
        "1/run/artifacts/dir/",
        "1/run/artifacts/naïve ünïcode ✓.txt",
        "1/run/artifacts/..hidden",
        "1/run/artifacts/a..b",
        "1/run/artifacts/100%.txt",
    ],
)
def test_accepts_ordinary_paths(raw: str) -> None:
    assert artifact_path(raw) == raw.removesuffix("/")


@pytest.mark.parametrize(
    "raw",
    [
        "..",
        "../etc/passwd",
        "1/run/artifacts/../../other/artifacts/a.txt",
        "1/run/artifacts/..",
        "1/./run",
        "/etc/passwd",
        "//etc/passwd",
        "C:/Windows/win.ini",
        "c:evil",
        "1/run/artifacts\\..\\..\\x",
        "1\\run",
        "1/run/a\x00b",
        "1/run/a\nb",
        "1/run/a#b",
        "1//run",
        # percent-encoding that survived the server's one decoding (double encoding)
        "1/run/artifacts/%2e%2e/%2e%2e/x",
        "1/run/artifacts/%2E%2E",
        "1/run/artifacts/..%2f..%2fx",
        "1/run/artifacts/%252e%252e/x",
        "%2fetc%2fpasswd",
        "1/run/%5c..",
        "1/run/%00",
        ".stratus-staging/abc",
        "x" * 256,
        "/".join(["abcdefghij"] * 100),
    ],
)
def test_rejects_traversal_and_odd_paths(raw: str) -> None:
    with pytest.raises(InvalidParameterValue, match=r"Invalid path"):
        artifact_path(raw)


def test_root_is_only_for_listing() -> None:
    assert artifact_path("", allow_root=True) == ""
    with pytest.raises(InvalidParameterValue):
        artifact_path("")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("mlflow-artifacts:/1/abc/artifacts", "1/abc/artifacts"),
        ("mlflow-artifacts://host:5000/1/models/m-1/artifacts", "1/models/m-1/artifacts"),
        ("mlflow-artifacts:/", ""),
        ("mlflow-artifacts:/1/../2", None),
        ("gs://bucket/1/abc", None),
        ("/tmp/somewhere", None),
    ],
)
def test_proxied_path(uri: str, expected: str | None) -> None:
    assert proxied_path(uri) == expected
