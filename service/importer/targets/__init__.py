"""Targets: the local store, or a Stratus server given with ``--to``."""

from __future__ import annotations

from urllib.parse import urlparse

from service.config import ClientCredentials, Settings
from service.errors import InvalidParameterValue
from service.importer.targets.base import Target


def server_url(url: str) -> str:
    """``url`` if it can name a Stratus server (``http(s)://host``); refused at once
    otherwise, rather than after the client's retries."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidParameterValue(
            f"--to takes the URL of a Stratus server (http://host:port or https://host), "
            f"not {url!r}"
        )
    return url


def open_target(url: str | None, settings: Settings, credentials: ClientCredentials) -> Target:
    if url:
        from service.importer.targets.remote import RemoteTarget

        return RemoteTarget(server_url(url), credentials)
    from service.importer.targets.local import LocalTarget

    return LocalTarget.from_settings(settings)


__all__ = ["Target", "open_target", "server_url"]
