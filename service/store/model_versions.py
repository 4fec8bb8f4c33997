"""Model versions: register, read, search, describe, stage, delete; tags; lookup by alias.

Version numbers come from ``registered_models.last_version``, incremented by an UPDATE
inside the registering transaction. The UPDATE takes the model row's lock on PostgreSQL
and MySQL (SQLite serialises writers), so concurrent registrations queue on that row and
get distinct numbers; numbers of deleted versions are never handed out again.

In MLflow 3 the client registers ``source=models:/<model_id>`` with a ``model_id`` and no
run id. The logged model then supplies the run id and the storage location that
``get-download-uri`` returns (``<experiment artifacts>/models/<model_id>/artifacts``).
A version keeps that location when its run is deleted: the files belong to the logged
model, not to the run.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store import search
from service.store.auth import Visible
from service.store.clock import now_ms
from service.store.db import Database
from service.store.entities.common import KeyValue, Page
from service.store.entities.registry import ModelVersion
from service.store.logged_models import MODEL_VERSIONS_TAG, LoggedModelStore
from service.store.registry import (
    ACTIVE_STAGES,
    LATEST_ALIAS,
    aliases,
    canonical_stage,
    latest_version_keys,
    load_version,
    load_versions,
    model_not_found,
    models,
    require_model,
    require_version,
    search_page,
    touch_model,
    validate_alias,
    validate_model_name,
    validate_registry_tags,
    version_tags,
    versions,
)

#: The logged-model tag listing the registered versions made from that model.
READY = "READY"


@dataclass(frozen=True)
class _Origin:
    """Where a new version's files live, and what produced them."""

    storage_location: str
    run_id: str | None
    model_id: str | None


class ModelVersionStore:
    def __init__(self, db: Database, logged_models: LoggedModelStore) -> None:
        self.db = db
        self.logged_models = logged_models

    def create(
        self,
        *,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[KeyValue] = (),
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        validate_model_name(name)
        unique_tags = validate_registry_tags(tags)
        _validate_source(source)
        origin = self._origin(source, run_id or None, model_id or None)
        now = now_ms()
        with self.db.write() as conn:
            # Row lock on the model: concurrent registrations take numbers one at a time.
            bumped = conn.execute(
                sa.update(models)
                .where(models.c.name == name)
                .values(last_version=models.c.last_version + 1, last_updated_time=now)
            ).rowcount
            if not bumped:
                raise model_not_found(name)
            version = conn.execute(
                sa.select(models.c.last_version).where(models.c.name == name)
            ).scalar_one()
            conn.execute(
                sa.insert(versions).values(
                    name=name,
                    version=version,
                    creation_time=now,
                    last_updated_time=now,
                    description=description,
                    current_stage="None",
                    source=source,
                    run_id=origin.run_id,
                    run_link=run_link,
                    status=READY,
                    storage_location=origin.storage_location,
                    model_id=origin.model_id,
                )
            )
            if unique_tags:
                conn.execute(
                    sa.insert(version_tags),
                    [
                        {"name": name, "version": version, "key": t.key, "value": t.value}
                        for t in unique_tags
                    ],
                )
            created = load_version(conn, name, version)
        if origin.model_id:
            self._link_logged_model(origin.model_id, name, version)
        return created

    def get(self, name: str, version: int) -> ModelVersion:
        validate_model_name(name)
        with self.db.read() as conn:
            return load_version(conn, name, version)

    def by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias names; ``latest`` is the newest version of the model."""
        validate_model_name(name)
        validate_alias(alias)
        with self.db.read() as conn:
            require_model(conn, name)
            if alias.lower() == LATEST_ALIAS:
                keys = latest_version_keys(conn, [name])
                if not keys:
                    raise ResourceDoesNotExist(f"Latest version not found for model {name}.")
                return load_version(conn, name, max(v for _, v in keys))
            version = conn.execute(
                sa.select(aliases.c.version).where(aliases.c.name == name, aliases.c.alias == alias)
            ).scalar()
            if version is None:
                raise InvalidParameterValue(f"Registered model alias {alias} not found.")
            return load_version(conn, name, version)

    def download_uri(self, name: str, version: int) -> str:
        validate_model_name(name)
        with self.db.read() as conn:
            return self._download_uri(conn, name, version)

    def update(self, name: str, version: int, description: str | None) -> ModelVersion:
        validate_model_name(name)
        with self.db.write() as conn:
            require_version(conn, name, version)
            conn.execute(
                sa.update(versions)
                .where(versions.c.name == name, versions.c.version == version)
                .values(description=description, last_updated_time=now_ms())
            )
            return load_version(conn, name, version)

    def transition_stage(
        self, name: str, version: int, stage: str, archive_existing_versions: bool
    ) -> ModelVersion:
        """Move a version to ``stage``; optionally archive the others in that stage."""
        validate_model_name(name)
        target = canonical_stage(stage)
        if archive_existing_versions and target not in ACTIVE_STAGES:
            raise InvalidParameterValue(
                "Model version transition cannot archive existing model versions because "
                f"'{stage}' is not an Active stage. Valid stages are {list(ACTIVE_STAGES)}"
            )
        now = now_ms()
        with self.db.write() as conn:
            require_version(conn, name, version)
            if archive_existing_versions:
                conn.execute(
                    sa.update(versions)
                    .where(
                        versions.c.name == name,
                        versions.c.version != version,
                        versions.c.current_stage == target,
                    )
                    .values(current_stage="Archived", last_updated_time=now)
                )
            conn.execute(
                sa.update(versions)
                .where(versions.c.name == name, versions.c.version == version)
                .values(current_stage=target, last_updated_time=now)
            )
            touch_model(conn, name, now)
            return load_version(conn, name, version)

    def delete(self, name: str, version: int) -> None:
        """Delete a version with its tags and aliases; its number is not reused."""
        validate_model_name(name)
        with self.db.write() as conn:
            require_version(conn, name, version)
            conn.execute(
                sa.delete(versions).where(versions.c.name == name, versions.c.version == version)
            )
            touch_model(conn, name, now_ms())

    def search(
        self,
        *,
        filter_string: str | None,
        order_by: Sequence[str],
        max_results: int | None,
        page_token: str | None,
        visible: Visible | None = None,
    ) -> Page[ModelVersion]:
        """``visible`` limits the results to models the caller may read (service/auth)."""
        return search_page(
            self.db,
            search.Target.MODEL_VERSIONS,
            search.model_version_search_query,
            lambda conn, rows: load_versions(conn, [(name, number) for name, number in rows]),
            versions.c.name,
            filter_string=filter_string,
            order_by=order_by,
            max_results=max_results,
            page_token=page_token,
            visible=visible,
        )

    # --- tags --------------------------------------------------------------------------

    def set_tag(self, name: str, version: int, key: str, value: str) -> None:
        validate_model_name(name)
        (tag,) = validate_registry_tags([KeyValue(key, value)])
        with self.db.write() as conn:
            require_version(conn, name, version)
            conn.execute(_tag_delete(name, version, key))
            conn.execute(
                sa.insert(version_tags).values(
                    name=name, version=version, key=tag.key, value=tag.value
                )
            )

    def delete_tag(self, name: str, version: int, key: str) -> None:
        """Remove a tag; a tag that is not there is not an error (as in MLflow)."""
        validate_model_name(name)
        validate_registry_tags([KeyValue(key, "")])
        with self.db.write() as conn:
            require_version(conn, name, version)
            conn.execute(_tag_delete(name, version, key))

    # --- helpers -----------------------------------------------------------------------

    def _origin(self, source: str, run_id: str | None, model_id: str | None) -> _Origin:
        """Resolve ``models:/`` sources to the files they name, and fill in the run id."""
        parsed = urllib.parse.urlparse(source)
        storage_location = source
        source_model_id = None
        if parsed.scheme == "models":
            reference = parsed.path.lstrip("/")
            if "/" in reference or "@" in reference:
                storage_location = self._registered_source(source, reference)
            else:
                source_model_id = reference
        if source_model_id:
            logged = self.logged_models.get(source_model_id)
            storage_location = logged.artifact_location
            run_id = run_id or logged.source_run_id
            model_id = model_id or source_model_id
        if model_id and model_id != source_model_id:
            run_id = run_id or self.logged_models.get(model_id).source_run_id
        return _Origin(storage_location, run_id, model_id)

    def _registered_source(self, source: str, reference: str) -> str:
        """``models:/<name>/<version>`` or ``models:/<name>@<alias>``: that version's files."""
        with self.db.read() as conn:
            if "@" in reference:
                name, alias = reference.rsplit("@", 1)
                version = conn.execute(
                    sa.select(aliases.c.version).where(
                        aliases.c.name == name, aliases.c.alias == alias
                    )
                ).scalar()
                if version is not None:
                    return self._download_uri(conn, name, version)
            else:
                name, number = reference.split("/", 1)
                if number.isdigit():
                    return self._download_uri(conn, name, int(number))
        raise InvalidParameterValue(
            f"Unable to fetch model from model URI source artifact location '{source}'. "
            "Use models:/<model_id>, models:/<name>/<version> or models:/<name>@<alias>."
        )

    @staticmethod
    def _download_uri(conn: Connection, name: str, version: int) -> str:
        require_version(conn, name, version)
        row = conn.execute(
            sa.select(versions.c.storage_location, versions.c.source).where(
                versions.c.name == name, versions.c.version == version
            )
        ).one()
        location: str = row.storage_location or row.source
        return location

    def _link_logged_model(self, model_id: str, name: str, version: int) -> None:
        """Record the new version in the logged model's ``mlflow.modelVersions`` tag."""
        model = self.logged_models.get(model_id)
        current = next((t.value for t in model.tags if t.key == MODEL_VERSIONS_TAG), None)
        try:
            linked = json.loads(current) if current else []
        except ValueError:
            linked = []
        entry = {"name": name, "version": version}  # an integer, as MLflow's store writes it
        if not isinstance(linked, list) or entry in linked:
            return
        tag = KeyValue(MODEL_VERSIONS_TAG, json.dumps([*linked, entry]))
        self.logged_models.set_tags(model_id, [tag])


def _tag_delete(name: str, version: int, key: str) -> sa.Delete:
    return sa.delete(version_tags).where(
        version_tags.c.name == name, version_tags.c.version == version, version_tags.c.key == key
    )


def _validate_source(source: str) -> None:
    """Sources are remote URIs: no local paths, and no ``..`` that could escape a root."""
    if not source or not source.strip():
        raise InvalidParameterValue("Missing value for required parameter 'source'.")
    unquoted = source
    while (step := urllib.parse.unquote_plus(unquoted)) != unquoted:
        unquoted = step
    local = unquoted.startswith("/") or unquoted.lower().startswith("file:")
    if local or "\x00" in unquoted or ".." in unquoted.split("/"):
        raise InvalidParameterValue(
            f"Invalid model version source: '{source}'. The source must be a remote URI "
            "(e.g. models:/<model_id> or mlflow-artifacts:/...) with no relative path "
            "references."
        )
