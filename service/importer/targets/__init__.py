"""Targets: the local store, or a Stratus server given with ``--to``."""

from __future__ import annotations

from service.config import ClientCredentials, Settings
from service.importer.targets.base import Target


def open_target(url: str | None, settings: Settings, credentials: ClientCredentials) -> Target:
    if url:
        from service.importer.targets.remote import RemoteTarget

        return RemoteTarget(url, credentials)
    from service.importer.targets.local import LocalTarget

    return LocalTarget.from_settings(settings)


__all__ = ["Target", "open_target"]
