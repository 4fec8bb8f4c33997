"""Registered models: create, read, search, rename, describe, delete; tags and aliases.

Names are unique per server (the primary key). Versions, tags and aliases reference the
name with ON UPDATE/DELETE CASCADE, so a rename is one UPDATE and a delete removes
everything under the model, on every backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from service.errors import ResourceAlreadyExists
from service.store import search
from service.store.auth import Visible, model_grants
from service.store.clock import now_ms
from service.store.db import Database
from service.store.entities.common import KeyValue, Page
from service.store.entities.registry import ModelVersion, RegisteredModel
from service.store.registry import (
    STAGES,
    aliases,
    canonical_stage,
    latest_version_keys,
    load_model,
    load_models,
    load_versions,
    model_tags,
    models,
    require_model,
    require_version,
    search_page,
    validate_alias,
    validate_assignable_alias,
    validate_model_name,
    validate_registry_tags,
    versions,
)


class RegisteredModelStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        name: str,
        tags: Sequence[KeyValue] = (),
        description: str | None = None,
        *,
        manager: str | None = None,
    ) -> RegisteredModel:
        """A new model; ``manager`` (its creator, with auth on) gets MANAGE on it in the
        same transaction."""
        validate_model_name(name)
        unique_tags = validate_registry_tags(tags)
        now = now_ms()
        try:
            with self.db.write() as conn:
                conn.execute(
                    sa.insert(models).values(
                        name=name,
                        creation_time=now,
                        last_updated_time=now,
                        description=description or None,
                        last_version=0,
                    )
                )
                if unique_tags:
                    conn.execute(
                        sa.insert(model_tags),
                        [{"name": name, "key": t.key, "value": t.value} for t in unique_tags],
                    )
                if manager is not None:
                    conn.execute(
                        sa.insert(model_grants).values(
                            name=name, principal=manager, permission="MANAGE"
                        )
                    )
                return load_model(conn, name)
        except IntegrityError as exc:
            raise ResourceAlreadyExists(f"Registered Model (name={name}) already exists.") from exc

    def get(self, name: str) -> RegisteredModel:
        validate_model_name(name)
        with self.db.read() as conn:
            return load_model(conn, name)

    def rename(self, name: str, new_name: str) -> RegisteredModel:
        validate_model_name(name)
        validate_model_name(new_name, "new_name")
        now = now_ms()
        try:
            with self.db.write() as conn:
                require_model(conn, name)
                if new_name != name:
                    conn.execute(
                        sa.update(models)
                        .where(models.c.name == name)
                        .values(name=new_name, last_updated_time=now)
                    )
                    conn.execute(
                        sa.update(versions)
                        .where(versions.c.name == new_name)
                        .values(last_updated_time=now)
                    )
                return load_model(conn, new_name)
        except IntegrityError as exc:
            raise ResourceAlreadyExists(
                f"Registered Model (name={new_name}) already exists."
            ) from exc

    def update(self, name: str, description: str | None) -> RegisteredModel:
        validate_model_name(name)
        with self.db.write() as conn:
            require_model(conn, name)
            conn.execute(
                sa.update(models)
                .where(models.c.name == name)
                .values(description=description, last_updated_time=now_ms())
            )
            return load_model(conn, name)

    def delete(self, name: str) -> None:
        """Delete the model with its versions, tags and aliases (cascading foreign keys)."""
        validate_model_name(name)
        with self.db.write() as conn:
            if not conn.execute(sa.delete(models).where(models.c.name == name)).rowcount:
                require_model(conn, name)

    def search(
        self,
        *,
        filter_string: str | None,
        order_by: Sequence[str],
        max_results: int | None,
        page_token: str | None,
        visible: Visible | None = None,
    ) -> Page[RegisteredModel]:
        """``visible`` limits the results to what the caller may read (service/auth)."""
        return search_page(
            self.db,
            search.Target.REGISTERED_MODELS,
            search.registered_model_search_query,
            lambda conn, rows: load_models(conn, [name for (name,) in rows]),
            models.c.name,
            filter_string=filter_string,
            order_by=order_by,
            max_results=max_results,
            page_token=page_token,
            visible=visible,
        )

    def latest_versions(self, name: str, stages: Sequence[str] = ()) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (every stage when empty)."""
        validate_model_name(name)
        wanted = {canonical_stage(s) for s in stages} or set(STAGES)
        with self.db.read() as conn:
            require_model(conn, name)
            latest = load_versions(conn, latest_version_keys(conn, [name]))
        return [v for v in latest if v.current_stage in wanted]

    # --- tags --------------------------------------------------------------------------

    def set_tag(self, name: str, key: str, value: str) -> None:
        validate_model_name(name)
        (tag,) = validate_registry_tags([KeyValue(key, value)])
        with self.db.write() as conn:
            require_model(conn, name)
            conn.execute(
                sa.delete(model_tags).where(model_tags.c.name == name, model_tags.c.key == key)
            )
            conn.execute(sa.insert(model_tags).values(name=name, key=tag.key, value=tag.value))

    def delete_tag(self, name: str, key: str) -> None:
        """Remove a tag; a tag that is not there is not an error (as in MLflow)."""
        validate_model_name(name)
        validate_registry_tags([KeyValue(key, "")])
        with self.db.write() as conn:
            require_model(conn, name)
            conn.execute(
                sa.delete(model_tags).where(model_tags.c.name == name, model_tags.c.key == key)
            )

    # --- aliases -----------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version``, moving it if it named another version."""
        validate_model_name(name)
        validate_alias(alias)
        validate_assignable_alias(alias)
        with self.db.write() as conn:
            require_version(conn, name, version)
            conn.execute(sa.delete(aliases).where(aliases.c.name == name, aliases.c.alias == alias))
            conn.execute(sa.insert(aliases).values(name=name, alias=alias, version=version))

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove an alias; an alias that is not there is not an error (as in MLflow)."""
        validate_model_name(name)
        validate_alias(alias)
        with self.db.write() as conn:
            require_model(conn, name)
            conn.execute(sa.delete(aliases).where(aliases.c.name == name, aliases.c.alias == alias))
