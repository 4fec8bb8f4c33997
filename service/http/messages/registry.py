"""Request messages of the model registry: registered models and model versions."""

from __future__ import annotations

from service.http.parsing import (
    Int64,
    KeyValueMessage,
    Message,
    Repeated,
    Text,
    VersionNumber,
)


class ModelName(Message):
    name: Text


class CreateRegisteredModel(Message):
    name: Text
    tags: list[KeyValueMessage] = []
    description: Text | None = None


class RenameRegisteredModel(Message):
    name: Text
    new_name: Text | None = None


class UpdateDescription(Message):
    name: Text
    description: Text | None = None


class Search(Message):
    filter: Text | None = None
    max_results: Int64 | None = None
    order_by: Repeated[Text] = []
    page_token: Text | None = None


class LatestVersions(Message):
    name: Text
    stages: Repeated[Text] = []


class ModelTag(Message):
    name: Text
    key: Text
    value: Text


class ModelTagKey(Message):
    name: Text
    key: Text


class SetAlias(Message):
    name: Text
    alias: Text
    version: VersionNumber


class AliasRef(Message):
    name: Text
    alias: Text


class CreateModelVersion(Message):
    name: Text
    source: Text
    run_id: Text | None = None
    tags: list[KeyValueMessage] = []
    run_link: Text | None = None
    description: Text | None = None
    model_id: Text | None = None


class VersionRef(Message):
    name: Text
    version: VersionNumber


class UpdateVersion(VersionRef):
    description: Text | None = None


class TransitionStage(VersionRef):
    stage: Text
    archive_existing_versions: bool = False


class VersionTag(VersionRef):
    key: Text
    value: Text


class VersionTagKey(VersionRef):
    key: Text
