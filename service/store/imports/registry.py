"""Importing the model registry: registered models, their versions under their own
numbers, and aliases."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.errors import InvalidParameterValue
from service.store import tables
from service.store.db import Database
from service.store.entities.registry import ModelVersion
from service.store.imports.records import Outcome, RegisteredModelImport, Result
from service.store.imports.rows import insert_missing, last_wins
from service.store.registry import (
    MAX_VERSION,
    aliases,
    model_not_found,
    model_tags,
    models,
    version_tags,
    versions,
)

logged_models = tables.table_of(tables.LoggedModel)


class RegistryImports:
    def __init__(self, db: Database) -> None:
        self.db = db

    def import_registered_model(self, model: RegisteredModelImport) -> Result:
        with self.db.write() as conn:
            last_version = conn.execute(
                sa.select(models.c.last_version).where(models.c.name == model.name)
            ).scalar()
            if last_version is None:
                conn.execute(
                    sa.insert(models).values(
                        name=model.name,
                        creation_time=model.creation_time,
                        last_updated_time=model.last_updated_time,
                        description=model.description,
                        last_version=model.last_version,
                    )
                )
                outcome = Outcome.CREATED
            else:
                if model.last_version > last_version:
                    conn.execute(
                        sa.update(models)
                        .where(models.c.name == model.name)
                        .values(last_version=model.last_version)
                    )
                outcome = Outcome.MERGED
            insert_missing(conn, model_tags, "name", model.name, model.tags)
        return Result(outcome)

    def import_model_version(self, version: ModelVersion) -> Result:
        """Write a version under its own number; a different version there is kept.

        Its aliases are not written here (see :meth:`import_alias`).
        """
        if not 0 < version.version <= MAX_VERSION:
            raise InvalidParameterValue(f"Invalid model version number {version.version}")
        key = sa.and_(versions.c.name == version.name, versions.c.version == version.version)
        with self.db.write() as conn:
            if (
                conn.execute(
                    sa.select(models.c.name).where(models.c.name == version.name).with_for_update()
                ).first()
                is None
            ):
                raise model_not_found(version.name)
            existing = conn.execute(sa.select(versions).where(key)).mappings().first()
            if existing is not None:
                if (existing["source"], existing["creation_time"]) != (
                    version.source,
                    version.creation_time,
                ):
                    note = (
                        f"version {version.version} of '{version.name}' already exists on the "
                        "target with another source"
                    )
                    return Result(Outcome.SKIPPED, [note])
                outcome = Outcome.MERGED
            else:
                conn.execute(
                    sa.insert(versions).values(
                        name=version.name,
                        version=version.version,
                        creation_time=version.creation_time,
                        last_updated_time=version.last_updated_time,
                        description=version.description,
                        user_id=version.user_id,
                        current_stage=version.current_stage,
                        source=version.source,
                        run_id=version.run_id,
                        run_link=version.run_link,
                        status=version.status,
                        status_message=version.status_message,
                        storage_location=_storage_location(conn, version),
                        model_id=version.model_id,
                    )
                )
                conn.execute(
                    sa.update(models)
                    .where(models.c.name == version.name, models.c.last_version < version.version)
                    .values(last_version=version.version)
                )
                outcome = Outcome.CREATED
            for tag in last_wins(version.tags):
                conn.execute(
                    sa.delete(version_tags).where(
                        version_tags.c.name == version.name,
                        version_tags.c.version == version.version,
                        version_tags.c.key == tag.key,
                    )
                )
                conn.execute(
                    sa.insert(version_tags).values(
                        name=version.name, version=version.version, key=tag.key, value=tag.value
                    )
                )
        return Result(outcome)

    def import_alias(self, name: str, alias: str, version: int) -> Result:
        """Point ``alias`` at ``version`` unless the target already points it elsewhere."""
        with self.db.write() as conn:
            exists = conn.execute(
                sa.select(versions.c.version).where(
                    versions.c.name == name, versions.c.version == version
                )
            ).first()
            if exists is None:
                note = f"alias '{alias}' of '{name}': version {version} is not on the target"
                return Result(Outcome.SKIPPED, [note])
            current = conn.execute(
                sa.select(aliases.c.version).where(aliases.c.name == name, aliases.c.alias == alias)
            ).scalar()
            if current is None:
                conn.execute(sa.insert(aliases).values(name=name, alias=alias, version=version))
                return Result(Outcome.CREATED)
            if current != version:
                note = (
                    f"alias '{alias}' of '{name}' already names version {current} on the "
                    f"target (the source says {version})"
                )
                return Result(Outcome.SKIPPED, [note])
            return Result(Outcome.MERGED)


def _storage_location(conn: Connection, version: ModelVersion) -> str | None:
    """The given location, or the logged model's files for a ``models:/<id>`` version."""
    if version.storage_location:
        return version.storage_location
    model_id = version.model_id
    if not model_id and version.source.startswith("models:/m-"):
        model_id = version.source.removeprefix("models:/")
    if not model_id:
        return None
    return conn.execute(
        sa.select(logged_models.c.artifact_location).where(logged_models.c.model_id == model_id)
    ).scalar()
