"""The local artifact disk fills up (ENOSPC) in the middle of an upload.

A real ``stratus serve`` keeps its artifacts on a 4 MiB tmpfs. An upload larger than the
free space gets a 503 with ``Retry-After`` naming the full store (the client retries;
an operator has to make room), never a 500, and leaves nothing behind: no file at the
path, no staging file using the space. Once the space is there, uploads work again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
DISK = "4m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mountpoint)], check=True
    )
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _used(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def test_a_full_disk_is_503_and_leaves_nothing_behind(small_disk: Path, tmp_path: Path) -> None:
    server = ServerProcess(
        f"sqlite:///{tmp_path / 'stratus.db'}", str(small_disk / "artifacts"), tmp_path
    ).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            ok = http.put(f"{ARTIFACTS}/1/r/artifacts/small.txt", content=b"fits")
            assert ok.status_code == 200, ok.text

            too_big = http.put(
                f"{ARTIFACTS}/1/r/artifacts/big.bin", content=os.urandom(6 * 1024 * 1024)
            )
            assert too_big.status_code == 503, too_big.text
            assert too_big.headers["retry-after"].isdigit()
            body = too_big.json()
            assert body["error_code"] == "TEMPORARILY_UNAVAILABLE"
            assert "full" in body["message"]

            assert http.get(f"{ARTIFACTS}/1/r/artifacts/big.bin").status_code == 404
            listed = http.get(ARTIFACTS, params={"path": "1/r/artifacts"}).json()
            assert [f["path"] for f in listed["files"]] == ["small.txt"]
            assert _used(small_disk) < 64 * 1024  # the half-written staging file is gone

            again = http.put(f"{ARTIFACTS}/1/r/artifacts/after.bin", content=b"x" * 100_000)
            assert again.status_code == 200, again.text
    finally:
        server.stop()
    assert "Traceback" not in server.log_path.read_text()
