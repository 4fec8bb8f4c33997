"""Artifact paths: the one gate every client-supplied path goes through.

A path is relative to the artifact root and uses ``/`` only. The proxied API addresses
files by path alone (``<exp_id>/<run_id>/artifacts/...``), so keeping one run's
artifacts out of reach of another run's URI comes down to making traversal impossible:
no ``..``, no absolute paths, nothing that decodes into either.
"""

from __future__ import annotations

import re
from typing import NewType
from urllib.parse import unquote, urlparse

from service.errors import InvalidParameterValue

#: A validated path under the artifact root; only :func:`artifact_path` makes one.
ArtifactPath = NewType("ArtifactPath", str)

#: The root-level names starting with this prefix belong to the server (staging files).
RESERVED_PREFIX = ".stratus-"

PROXIED_SCHEME = "mlflow-artifacts"

#: GCS object names are at most 1024 bytes; common file systems cap a name at 255.
MAX_PATH_BYTES = 1024
MAX_SEGMENT_BYTES = 255

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_DECODE_ROUNDS = 5


def artifact_path(raw: str, *, allow_root: bool = False) -> ArtifactPath:
    """Validate ``raw`` (already URL-decoded once by the server) as a path under the root.

    Raises :class:`InvalidParameterValue` for ``..`` or ``.`` segments, absolute or
    drive-letter paths, backslashes, control characters (NUL included), ``#``, empty
    segments, over-long names, and any of these hidden behind further percent-encoding.
    A single trailing ``/`` is ignored. The empty path (the root) is allowed only for
    listing.
    """
    path = raw[:-1] if raw.endswith("/") else raw
    for form in _decoded_forms(path):
        reason = _problem(form)
        if reason in _TRAVERSAL:  # MLflow's exact answer, which clients may match on
            raise InvalidParameterValue("Invalid path")
        if reason:
            raise InvalidParameterValue(f"Invalid path {raw!r}: {reason}")
    if not path and not allow_root:
        raise InvalidParameterValue("Invalid path '': a file path is required")
    if len(path.encode()) > MAX_PATH_BYTES:
        raise InvalidParameterValue(f"Invalid path: longer than {MAX_PATH_BYTES} bytes")
    if path.split("/", 1)[0].startswith(RESERVED_PREFIX):
        raise InvalidParameterValue(f"Invalid path {raw!r}: {RESERVED_PREFIX}* names are reserved")
    return ArtifactPath(path)


def proxied_path(uri: str) -> ArtifactPath | None:
    """The path under the root that an ``mlflow-artifacts:`` URI names, else None.

    Locations with any other scheme (a bucket the client writes to directly) are not the
    server's to manage; malformed proxied locations are treated the same way.
    """
    parsed = urlparse(uri)
    if parsed.scheme != PROXIED_SCHEME:
        return None
    try:
        return artifact_path(parsed.path.lstrip("/"), allow_root=True)
    except InvalidParameterValue:
        return None


def check_artifact_location(location: str, root: str) -> None:
    """An experiment's ``artifact_location`` must stay where this server keeps artifacts.

    Accepted: a proxied ``mlflow-artifacts:`` URI with a valid path, or a location inside
    the configured artifact root (``root`` itself is not). Anything else (``file:///etc``,
    the metadata server, another team's bucket) would point clients somewhere the server
    does not control: InvalidParameterValue.
    """
    if proxied_path(location) is not None:
        return
    base = root.rstrip("/")
    candidates = [base] if "://" in base else [base, f"file://{base}"]
    for prefix in candidates:
        if location.startswith(prefix + "/"):
            rest = location[len(prefix) + 1 :]
            try:
                artifact_path(rest)
            except InvalidParameterValue:
                break
            return
    raise InvalidParameterValue(
        f"Invalid artifact_location {location!r}: it must be an mlflow-artifacts:/ URI or a "
        f"location under this server's artifact root ({root})."
    )


def _decoded_forms(path: str) -> list[str]:
    """``path`` and each further percent-decoding of it, until it stops changing."""
    forms = [path]
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    return forms


_BACKSLASH = "backslashes are not allowed"
_HASH = "'#' is not allowed"
_ABSOLUTE = "absolute paths are not allowed"
_DOTS = "'.' and '..' are not allowed"
#: What MLflow's ``validate_path_is_safe`` rejects, with the bare message "Invalid path".
_TRAVERSAL = frozenset({_BACKSLASH, _HASH, _ABSOLUTE, _DOTS})


def _problem(path: str) -> str | None:
    if _CONTROL.search(path):
        return "control characters are not allowed"
    if "\\" in path:
        return _BACKSLASH
    if "#" in path:
        return _HASH
    if path.startswith("/") or _WINDOWS_DRIVE.match(path):
        return _ABSOLUTE
    if not path:
        return None
    for segment in path.split("/"):
        if segment in (".", ".."):
            return _DOTS
        if not segment:
            return "empty path segments are not allowed"
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            return f"a name is longer than {MAX_SEGMENT_BYTES} bytes"
    return None
