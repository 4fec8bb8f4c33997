"""The artifact store: where logged files live, behind one small interface."""

from __future__ import annotations

from service.artifacts.base import ArtifactReader, ArtifactStore, ArtifactWriter, FileEntry
from service.artifacts.fsspec_store import open_fsspec_store
from service.artifacts.paths import ArtifactPath, artifact_path, proxied_path


def open_artifact_store(root: str) -> ArtifactStore:
    """The store for the configured artifact root (a local path or ``gs://bucket/prefix``)."""
    return open_fsspec_store(root)


__all__ = [
    "ArtifactPath",
    "ArtifactReader",
    "ArtifactStore",
    "ArtifactWriter",
    "FileEntry",
    "artifact_path",
    "open_artifact_store",
    "proxied_path",
]
