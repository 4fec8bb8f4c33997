"""The fsspec artifact store, on a local directory and on GCS (an emulator)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from service.artifacts import ArtifactStore, artifact_path, open_artifact_store
from service.artifacts.fsspec_store import BLOCK_BYTES, STAGING_DIR
from service.errors import InvalidParameterValue, ResourceDoesNotExist
from tests.conftest import GCS_TEST_BUCKET


@pytest.fixture(params=["local", "gcs"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ArtifactStore:
    if request.param == "local":
        return open_artifact_store(str(tmp_path / "artifacts"))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", request.getfixturevalue("gcs_emulator"))
    return open_artifact_store(f"gs://{GCS_TEST_BUCKET}/unit-{uuid.uuid4().hex[:8]}")


def put(store: ArtifactStore, path: str, data: bytes) -> None:
    writer = store.open_write(artifact_path(path))
    writer.write(data)
    writer.commit()


def read(store: ArtifactStore, path: str) -> bytes:
    reader = store.open_read(artifact_path(path))
    data = b"".join(reader.chunks())
    assert reader.size == len(data)
    return data


def names(store: ArtifactStore, path: str) -> list[tuple[str, bool, int | None]]:
    return [(e.name, e.is_dir, e.size) for e in store.list(artifact_path(path, allow_root=True))]


def test_round_trip_in_several_blocks(store: ArtifactStore) -> None:
    data = os.urandom(BLOCK_BYTES + 3 * 1024 * 1024)
    writer = store.open_write(artifact_path("1/run/artifacts/big.bin"))
    for start in range(0, len(data), 1024 * 1024):
        writer.write(data[start : start + 1024 * 1024])
    writer.commit()
    assert read(store, "1/run/artifacts/big.bin") == data


def test_overwrite_replaces_the_file(store: ArtifactStore) -> None:
    put(store, "1/r/artifacts/a.txt", b"first")
    put(store, "1/r/artifacts/a.txt", b"second")
    assert read(store, "1/r/artifacts/a.txt") == b"second"


def test_abort_publishes_nothing(store: ArtifactStore) -> None:
    put(store, "1/r/artifacts/kept.txt", b"old")
    for path, size in (("1/r/artifacts/kept.txt", 10), ("1/r/artifacts/new.bin", BLOCK_BYTES * 2)):
        writer = store.open_write(artifact_path(path))
        writer.write(os.urandom(size))
        writer.abort()
    assert read(store, "1/r/artifacts/kept.txt") == b"old"
    assert names(store, "1/r/artifacts") == [("kept.txt", False, 3)]


def test_list_gives_basenames_dirs_and_sizes(store: ArtifactStore) -> None:
    put(store, "1/r/artifacts/a.txt", b"hello")
    put(store, "1/r/artifacts/sub/b.txt", b"hi")
    put(store, "1/r/artifacts/sub/deeper/c.txt", b"")
    assert names(store, "1/r/artifacts") == [("a.txt", False, 5), ("sub", True, None)]
    assert names(store, "1/r/artifacts/sub") == [("b.txt", False, 2), ("deeper", True, None)]
    assert names(store, "1/r/artifacts/sub/deeper") == [("c.txt", False, 0)]
    assert names(store, "1/r/artifacts/a.txt") == []
    assert names(store, "1/r/artifacts/missing") == []
    assert names(store, "") == [("1", True, None)]


def test_missing_file_and_directory_reads(store: ArtifactStore) -> None:
    put(store, "1/r/artifacts/sub/b.txt", b"hi")
    with pytest.raises(ResourceDoesNotExist, match="No such artifact"):
        store.open_read(artifact_path("1/r/artifacts/nope.txt"))
    with pytest.raises(InvalidParameterValue, match="directory"):
        store.open_read(artifact_path("1/r/artifacts/sub"))


def test_cannot_write_over_a_directory(store: ArtifactStore) -> None:
    put(store, "1/r/artifacts/sub/b.txt", b"hi")
    with pytest.raises(InvalidParameterValue, match="directory"):
        store.open_write(artifact_path("1/r/artifacts/sub"))


def test_delete_removes_a_tree(store: ArtifactStore) -> None:
    put(store, "1/r/artifacts/a.txt", b"a")
    put(store, "1/r/artifacts/sub/b.txt", b"b")
    put(store, "1/other/artifacts/c.txt", b"c")
    assert store.delete(artifact_path("1/r"))
    assert names(store, "1/r/artifacts") == []
    assert not store.delete(artifact_path("1/r"))
    assert read(store, "1/other/artifacts/c.txt") == b"c"


def test_local_staging_is_hidden_and_purged(tmp_path: Path) -> None:
    store = open_artifact_store(str(tmp_path))
    writer = store.open_write(artifact_path("1/r/artifacts/a.txt"))
    writer.write(b"partial")
    (staged,) = (tmp_path / STAGING_DIR).iterdir()
    assert names(store, "") == []
    os.utime(staged, (0, 0))
    assert store.purge_staging(older_than_seconds=3600) == 1
    assert not staged.exists()
    writer.abort()  # the abandoned writer's handle; its file is already gone


def test_local_file_in_the_way_is_a_bad_path(tmp_path: Path) -> None:
    store = open_artifact_store(f"file://{tmp_path}")
    put(store, "1/r/artifacts/a.txt", b"a")
    writer = store.open_write(artifact_path("1/r/artifacts/a.txt/b.txt"))
    writer.write(b"b")
    with pytest.raises(InvalidParameterValue, match="Cannot write"):
        writer.commit()
    assert list((tmp_path / STAGING_DIR).iterdir()) == []


@pytest.mark.slow
def test_listing_ten_thousand_files(tmp_path: Path) -> None:
    folder = tmp_path / "1" / "r" / "artifacts"
    folder.mkdir(parents=True)
    for i in range(10_000):
        (folder / f"f{i:05d}.txt").write_bytes(b"x")
    entries = open_artifact_store(str(tmp_path)).list(artifact_path("1/r/artifacts"))
    assert len(entries) == 10_000
    assert entries[0].name == "f00000.txt" and entries[-1].size == 1


def test_unsupported_root_is_refused() -> None:
    with pytest.raises(ValueError, match="Unsupported artifact root"):
        open_artifact_store("ftp://example.com/artifacts")
