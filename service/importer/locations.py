"""Rewriting artifact URIs from the source's locations to the target's.

Model versions name their files by URI. ``models:/<id>`` and ``runs:/<id>/…`` stay valid
because ids are kept; a path into a run's or logged model's artifacts in the source
(``file:///home/me/mlruns/1/<run>/artifacts/model``) becomes the same path under that
run's or model's artifact location on the target.
"""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlparse

from service.importer.journal import Journal

STABLE_SCHEMES = ("models", "runs")


def normalise(uri: str) -> str:
    """``file:///x/`` and ``/x`` are the same place."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        uri = unquote(parsed.path)
    return uri.rstrip("/")


def rewrite(uri: str, journal: Journal) -> str | None:
    """The target URI for ``uri``; None when it is not under an imported location."""
    if not uri or urlparse(uri).scheme in STABLE_SCHEMES:
        return uri
    path = normalise(uri)
    rest: list[str] = []
    while path and path not in ("/", "."):
        target = journal.location(path)
        if target is not None:
            return "/".join([target.rstrip("/"), *reversed(rest)])
        path, tail = posixpath.split(path) if "/" in path else ("", path)
        rest.append(tail)
    return None


def is_local(uri: str) -> bool:
    scheme = urlparse(uri).scheme
    return scheme in ("", "file") or len(scheme) == 1
