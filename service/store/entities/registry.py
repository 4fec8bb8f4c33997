"""The model registry's records: registered models, their versions and aliases."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.store.entities.common import KeyValue


@dataclass(frozen=True, slots=True)
class ModelVersion:
    name: str
    version: int
    creation_time: int
    last_updated_time: int
    current_stage: str
    source: str
    status: str
    description: str | None = None
    user_id: str | None = None
    run_id: str | None = None
    run_link: str | None = None
    status_message: str | None = None
    #: Where the files are (what ``get-download-uri`` answers); None means ``source``.
    storage_location: str | None = None
    model_id: str | None = None
    tags: list[KeyValue] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ModelAlias:
    alias: str
    version: int


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    name: str
    creation_time: int
    last_updated_time: int
    description: str | None = None
    #: The newest version in each stage, oldest first.
    latest_versions: list[ModelVersion] = field(default_factory=list)
    tags: list[KeyValue] = field(default_factory=list)
    aliases: list[ModelAlias] = field(default_factory=list)
