"""The artifact-store interface the HTTP layer and ``stratus gc`` program against.

Implementations are synchronous (they do blocking I/O); callers on the event loop run
them in a worker thread. Files move in bounded chunks both ways, so memory stays flat
whatever the file size. Failures surface as :mod:`service.errors` types:
``ResourceDoesNotExist`` for a missing file, ``InvalidParameterValue`` for a path that
cannot be used (a directory where a file is expected, or the reverse).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from service.artifacts.paths import ArtifactPath


@dataclass(frozen=True)
class FileEntry:
    """One entry of a directory listing; ``name`` is the basename."""

    name: str
    is_dir: bool
    size: int | None = None


class ArtifactReader(Protocol):
    """An open file: its size up front, then its bytes in chunks."""

    size: int

    def chunks(self) -> Iterator[bytes]:
        """Yield the content in bounded chunks; the file is closed when this ends."""
        ...

    def close(self) -> None: ...


class ArtifactWriter(Protocol):
    """A file being written. Nothing is visible at its path until :meth:`commit`."""

    def write(self, data: bytes) -> None: ...

    def commit(self) -> None:
        """Publish the file at its path, replacing any previous file there."""
        ...

    def abort(self) -> None:
        """Drop what was written; the path keeps whatever it had before."""
        ...


class ArtifactStore(Protocol):
    #: Where the files live (a local directory or ``gs://bucket/prefix``), for logs.
    root: str

    def open_write(self, path: ArtifactPath) -> ArtifactWriter: ...

    def open_read(self, path: ArtifactPath) -> ArtifactReader: ...

    def list(self, path: ArtifactPath) -> list[FileEntry]:
        """The entries directly under ``path``; empty if it is missing or is a file."""
        ...

    def delete(self, path: ArtifactPath) -> bool:
        """Remove the file or directory tree at ``path``; False if nothing was there."""
        ...

    def purge_staging(self, older_than_seconds: float) -> int:
        """Remove uploads abandoned by a crash; returns how many were removed."""
        ...
