"""Artifact trees on file systems: local folders, ``file://`` URIs and, through fsspec,
object stores such as ``gs://`` when their fsspec package is installed."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from urllib.parse import unquote, urlparse

from fsspec import AbstractFileSystem
from fsspec.core import url_to_fs

from service.importer.records import ArtifactFile
from service.importer.sources.base import ArtifactsUnavailable, ArtifactTree

CHUNK_BYTES = 1024 * 1024
PROXIED_SCHEME = "mlflow-artifacts"


class FsspecTree:
    """The files below ``root`` on one fsspec file system."""

    def __init__(self, fs: AbstractFileSystem, root: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")

    def files(self) -> Iterator[ArtifactFile]:
        if not self.fs.isdir(self.root):
            return
        found = self.fs.find(self.root, detail=True)
        for full in sorted(found):
            info = found[full]
            if info.get("type") == "directory":
                continue
            relative = posixpath.relpath(full.rstrip("/"), self.root)
            yield ArtifactFile(relative, int(info.get("size") or 0))

    def chunks(self, path: str) -> Iterator[bytes]:
        with self.fs.open(f"{self.root}/{path}", "rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk


def local_tree(path: str) -> FsspecTree:
    fs, root = url_to_fs(path)
    return FsspecTree(fs, root)


def tree_for_uri(
    uri: str, proxied_root: str | None, moved: Mapping[str, str] | None = None
) -> ArtifactTree:
    """The tree an artifact URI names, as seen from this machine.

    ``mlflow-artifacts:/`` URIs are relative to the artifact root the source server
    served (``--artifacts-root``); local paths under a folder in ``moved`` (recorded
    folder -> where it is now) are read from its new place; other URIs where they point.
    """
    parsed = urlparse(uri)
    if parsed.scheme == PROXIED_SCHEME:
        if proxied_root is None:
            raise ArtifactsUnavailable(
                f"{uri} is served by an MLflow server; pass --artifacts-root with the "
                "folder or bucket that server stores artifacts in"
            )
        return tree_for_uri(f"{proxied_root.rstrip('/')}/{parsed.path.lstrip('/')}", None)
    if parsed.scheme in ("", "file") or len(parsed.scheme) == 1:  # a path, or C:\ on Windows
        path = unquote(parsed.path) if parsed.scheme == "file" else uri
        for recorded, now in (moved or {}).items():
            if path == recorded or path.startswith(f"{recorded}/"):
                path = now.rstrip("/") + path[len(recorded) :]
                break
        return local_tree(path)
    try:
        fs, root = url_to_fs(uri)
    except (ImportError, ValueError) as exc:
        raise ArtifactsUnavailable(f"cannot read {uri} from here: {exc}") from exc
    return FsspecTree(fs, root)
