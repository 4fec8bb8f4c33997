"""The artifact store over fsspec: a local directory, or a GCS bucket through gcsfs.

Writes never expose a half-written file. On GCS an object appears only when its
resumable upload is finalised, so an aborted upload is simply never finalised. On a
local disk the bytes go to a staging file under ``<root>/.stratus-staging/`` (the same
file system) and are renamed into place on commit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import time
import uuid
from collections.abc import Iterator
from typing import IO, Any

from fsspec import AbstractFileSystem
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from service.artifacts.base import ArtifactReader, ArtifactWriter, FileEntry
from service.artifacts.errors import storage_errors
from service.artifacts.paths import RESERVED_PREFIX, ArtifactPath
from service.errors import InvalidParameterValue, ResourceDoesNotExist

#: Bytes per chunk handed to a download response.
READ_CHUNK_BYTES = 1024 * 1024
#: Buffer of a GCS upload or read-ahead (a multiple of GCS's 256 KiB upload granule).
BLOCK_BYTES = 8 * 1024 * 1024

log = logging.getLogger(__name__)

STAGING_DIR = f"{RESERVED_PREFIX}staging"

_GCS_PROTOCOLS = ("gs", "gcs")


def open_fsspec_store(root: str) -> FsspecArtifactStore:
    """The store for ``root``: a local path, ``file://`` URL or ``gs://bucket/prefix``.

    gcsfs is imported only here, and only for a ``gs://`` root. It finds credentials the
    usual way (the metadata server on Cloud Run) and honours ``STORAGE_EMULATOR_HOST``.
    """
    protocol = root.split("://", 1)[0] if "://" in root else "file"
    if protocol in _GCS_PROTOCOLS:
        # Listings are never cached: other instances write to the same bucket.
        fs, path = url_to_fs(root, use_listings_cache=False)
    elif protocol == "file":
        fs, path = url_to_fs(root)
        fs.makedirs(path, exist_ok=True)
    else:
        raise ValueError(f"Unsupported artifact root {root!r}: use a local path or gs://")
    return FsspecArtifactStore(fs, path.rstrip("/"), display_root=root)


class FsspecArtifactStore:
    """An :class:`~service.artifacts.base.ArtifactStore` over one fsspec file system."""

    def __init__(self, fs: AbstractFileSystem, base: str, *, display_root: str) -> None:
        self.fs = fs
        self.root = display_root
        self._base = base
        self._local = isinstance(fs, LocalFileSystem)

    def _full(self, path: ArtifactPath) -> str:
        return f"{self._base}/{path}" if path else self._base

    # --- writes --------------------------------------------------------------------------

    def open_write(self, path: ArtifactPath) -> ArtifactWriter:
        full = self._full(path)
        with storage_errors(self.root):
            if self.fs.isdir(full):
                raise _not_writable(path, "it is a directory")
            if self._local:
                staging = posixpath.join(self._base, STAGING_DIR)
                os.makedirs(staging, exist_ok=True)
                return _StagedWriter(
                    posixpath.join(staging, uuid.uuid4().hex), full, path, self.root
                )
            handle = self.fs.open(full, "wb", block_size=BLOCK_BYTES)
        return _DirectWriter(handle, self.root)

    def delete(self, path: ArtifactPath) -> bool:
        full = self._full(path)
        try:
            with storage_errors(self.root):
                self.fs.rm(full, recursive=True)
        except FileNotFoundError:
            return False
        return True

    def purge_staging(self, older_than_seconds: float) -> int:
        if not self._local:
            return 0
        staging = posixpath.join(self._base, STAGING_DIR)
        cutoff = time.time() - older_than_seconds
        removed = 0
        try:
            entries = list(os.scandir(staging))
        except FileNotFoundError:
            return 0
        for entry in entries:
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                os.remove(entry.path)
                removed += 1
        return removed

    # --- reads ---------------------------------------------------------------------------

    def open_read(self, path: ArtifactPath) -> ArtifactReader:
        full = self._full(path)
        try:
            with storage_errors(self.root):
                info = self.fs.info(full)
                if info["type"] == "directory":
                    raise InvalidParameterValue(
                        f"Artifact path refers to a directory, not a file: '{path}'"
                    )
                handle = self.fs.open(full, "rb", block_size=BLOCK_BYTES)
                # Read ahead of the response: a store that fails now is still a 503,
                # not a download cut short after its headers.
                first = handle.read(READ_CHUNK_BYTES)
        except (FileNotFoundError, NotADirectoryError):
            raise ResourceDoesNotExist(f"No such artifact: '{path}'") from None
        return _Reader(handle, int(info["size"]), first)

    def list(self, path: ArtifactPath) -> list[FileEntry]:
        full = self._full(path)
        try:
            with storage_errors(self.root):
                infos = self.fs.ls(full, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        if len(infos) == 1 and infos[0]["name"].rstrip("/") == full:
            return []  # ``full`` is a file: fsspec lists a file as itself
        entries = [_entry(info) for info in infos]
        if not path:
            entries = [e for e in entries if not e.name.startswith(RESERVED_PREFIX)]
        return sorted(entries, key=lambda e: e.name)


def _entry(info: dict[str, Any]) -> FileEntry:
    name = posixpath.basename(info["name"].rstrip("/"))
    if info["type"] == "directory":
        return FileEntry(name, is_dir=True)
    return FileEntry(name, is_dir=False, size=int(info.get("size") or 0))


def _not_writable(path: ArtifactPath, reason: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Cannot write to '{path}': {reason}")


class _Reader:
    def __init__(self, handle: IO[bytes], size: int, first: bytes) -> None:
        self._handle = handle
        self._first = first
        self.size = size

    def chunks(self) -> Iterator[bytes]:
        try:
            if self._first:
                yield self._first
            while chunk := self._handle.read(READ_CHUNK_BYTES):
                yield chunk
        finally:
            self._handle.close()

    def close(self) -> None:
        self._handle.close()


class _StagedWriter:
    """Local disk: write a staging file, then rename it over the destination."""

    def __init__(self, staging: str, final: str, path: ArtifactPath, root: str) -> None:
        self._staging = staging
        self._final = final
        self._path = path
        self._root = root
        self._file = open(staging, "wb")  # noqa: SIM115 - closed by commit() or abort()

    def write(self, data: bytes) -> None:
        with storage_errors(self._root):
            self._file.write(data)

    def commit(self) -> None:
        try:
            with storage_errors(self._root):
                self._file.close()  # the last buffered bytes: the disk may be full here too
                os.makedirs(os.path.dirname(self._final), exist_ok=True)
                os.replace(self._staging, self._final)
        except (NotADirectoryError, FileExistsError, IsADirectoryError) as exc:
            # A file where a directory is needed on the way, or a directory at the path.
            self._discard()
            raise _not_writable(self._path, exc.strerror or str(exc)) from None
        except BaseException:
            self._discard()
            raise

    def abort(self) -> None:
        self._discard()

    def _discard(self) -> None:
        with contextlib.suppress(OSError):  # flushing the rest can fail on a full disk
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._staging)


class _DirectWriter:
    """Object stores: the upload is finalised by ``close()``; aborting never finalises it."""

    def __init__(self, handle: Any, root: str) -> None:
        self._handle = handle
        self._root = root

    def write(self, data: bytes) -> None:
        with storage_errors(self._root):
            self._handle.write(data)

    def commit(self) -> None:
        with storage_errors(self._root):
            self._handle.close()

    def abort(self) -> None:
        # Cancel a started resumable upload, and mark the file closed so that neither we
        # nor its finaliser uploads the buffered remainder. The cancel may fail like the
        # upload did; nothing is visible either way (an unfinalised upload never becomes
        # an object, and GCS drops it after a week), and the upload's own error is the one
        # to report.
        try:
            self._handle.discard()
        except Exception as exc:
            log.info("Could not cancel an abandoned upload to %s: %r", self._root, exc)
        finally:
            self._handle.closed = True
