"""The model registry's rules and row loading, shared by its two stores.

:mod:`service.store.registered_models` and :mod:`service.store.model_versions` hold the
operations; this module holds what both need: MLflow's validation rules for names,
versions, aliases, stages and tags, and the queries that turn rows into the records of
:mod:`service.store.entities.registry`.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar, TypeVarTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store import search, tables
from service.store.auth import Visible
from service.store.db import Database, planned_for_values
from service.store.entities.common import KeyValue, Page
from service.store.entities.registry import ModelAlias, ModelVersion, RegisteredModel
from service.store.validation import INT64_MAX, INT64_MIN, validate_key, validate_length

T = TypeVar("T")
Keys = TypeVarTuple("Keys")  # the key columns a registry search selects

models = tables.table_of(tables.RegisteredModel)
model_tags = tables.table_of(tables.RegisteredModelTag)
versions = tables.table_of(tables.ModelVersion)
version_tags = tables.table_of(tables.ModelVersionTag)
aliases = tables.table_of(tables.RegisteredModelAlias)

MAX_MODEL_NAME_LENGTH = tables.MODEL_NAME
MAX_ALIAS_LENGTH = 255
MAX_REGISTRY_TAG_VALUE_LENGTH = 100_000
MAX_VERSION = 2**31 - 1

STAGES = ("None", "Staging", "Production", "Archived")
#: Stages whose other versions ``archive_existing_versions`` may archive.
ACTIVE_STAGES = ("Staging", "Production")
LATEST_ALIAS = "latest"

_ALIAS = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")


# --- validation ----------------------------------------------------------------------------


def validate_model_name(name: str | None, what: str = "name") -> str:
    """Names are path-like in ``models:/`` URIs: no ``/`` or ``:``, nothing that normalises."""
    if name is None or not name.strip():
        raise InvalidParameterValue(f"Missing value for required parameter '{what}'.")
    if "/" in name or ":" in name:
        raise InvalidParameterValue(
            f"Invalid model name '{name}'. Names cannot contain '/' or ':'."
        )
    normalised = posixpath.normpath(name)
    if normalised != name or normalised == "." or normalised.startswith(".."):
        raise InvalidParameterValue(
            f"Invalid value {json.dumps(name)} for parameter '{what}' supplied: names must not "
            f"resolve to other names when treated as paths (this one resolves to '{normalised}')."
        )
    validate_length(name, MAX_MODEL_NAME_LENGTH, what)
    return name


def parse_version(raw: str | int) -> int:
    """Versions are integers sent as strings (``"3"``)."""
    try:
        version = int(str(raw).strip())
    except ValueError:
        raise InvalidParameterValue(
            f"Parameter 'version' must be an integer, got '{raw}'."
        ) from None
    if not INT64_MIN <= version <= INT64_MAX:  # no such version; the database would overflow
        raise InvalidParameterValue(
            f"Invalid value {json.dumps(str(raw))} for parameter 'version' supplied: "
            "it is outside the 64-bit integer range."
        )
    return version


def validate_alias(alias: str | None) -> str:
    if not alias:
        raise InvalidParameterValue("Registered model alias name cannot be empty.")
    if not _ALIAS.match(alias):
        raise InvalidParameterValue(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, "
            "underscores (_), and dashes (-)."
        )
    validate_length(alias, MAX_ALIAS_LENGTH, "Registered model alias name")
    return alias


def validate_assignable_alias(alias: str) -> None:
    """``latest`` and ``v<N>`` already mean something in ``models:/`` URIs."""
    if alias.lower() == LATEST_ALIAS:
        raise InvalidParameterValue("'latest' alias name (case insensitive) is reserved.")
    if _VERSION_ALIAS.match(alias):
        raise InvalidParameterValue(f"Version alias name '{alias}' is reserved.")


def canonical_stage(stage: str) -> str:
    """Stages match case-insensitively and are stored in MLflow's spelling."""
    for known in STAGES:
        if stage.lower() == known.lower():
            return known
    raise InvalidParameterValue(
        f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(STAGES)}."
    )


def validate_registry_tags(tags: Sequence[KeyValue]) -> list[KeyValue]:
    """Validate tags and keep the last value of a repeated key."""
    for tag in tags:
        validate_key(tag.key, "tag")
        validate_length(tag.value, MAX_REGISTRY_TAG_VALUE_LENGTH, f"value of tag '{tag.key}'")
    return list({tag.key: tag for tag in tags}.values())


# --- reads -------------------------------------------------------------------------------


def model_not_found(name: str) -> ResourceDoesNotExist:
    return ResourceDoesNotExist(f"Registered Model with name={name} not found")


def version_not_found(name: str, version: int) -> ResourceDoesNotExist:
    return ResourceDoesNotExist(f"Model Version (name={name}, version={version}) not found")


def require_model(conn: Connection, name: str) -> None:
    if conn.execute(sa.select(models.c.name).where(models.c.name == name)).first() is None:
        raise model_not_found(name)


def require_version(conn: Connection, name: str, version: int) -> None:
    found = None
    if 0 < version <= MAX_VERSION:
        found = conn.execute(
            sa.select(versions.c.version).where(
                versions.c.name == name, versions.c.version == version
            )
        ).first()
    if found is None:
        raise version_not_found(name, version)


def load_version(conn: Connection, name: str, version: int) -> ModelVersion:
    require_version(conn, name, version)
    return load_versions(conn, [(name, version)])[0]


def load_versions(conn: Connection, keys: Sequence[tuple[str, int]]) -> list[ModelVersion]:
    """The versions with these ``(name, version)`` keys, in the order given."""
    if not keys:
        return []
    key_list = list(keys)
    rows = {
        (row["name"], row["version"]): row
        for row in conn.execute(
            sa.select(versions).where(sa.tuple_(versions.c.name, versions.c.version).in_(key_list))
        ).mappings()
    }
    names = sorted({name for name, _ in key_list})
    tags: dict[tuple[str, int], list[KeyValue]] = {}
    for tag in conn.execute(
        sa.select(version_tags)
        .where(
            sa.tuple_(version_tags.c.name, version_tags.c.version).in_(key_list),
        )
        .order_by(version_tags.c.key)
    ):
        tags.setdefault((tag.name, tag.version), []).append(KeyValue(tag.key, tag.value))
    version_aliases: dict[tuple[str, int], list[str]] = {}
    for alias in conn.execute(
        sa.select(aliases).where(aliases.c.name.in_(names)).order_by(aliases.c.alias)
    ):
        version_aliases.setdefault((alias.name, alias.version), []).append(alias.alias)
    return [
        ModelVersion(
            name=row["name"],
            version=row["version"],
            creation_time=row["creation_time"],
            last_updated_time=row["last_updated_time"],
            current_stage=row["current_stage"],
            source=row["source"],
            status=row["status"],
            description=row["description"],
            user_id=row["user_id"],
            run_id=row["run_id"],
            run_link=row["run_link"],
            status_message=row["status_message"],
            storage_location=row["storage_location"],
            model_id=row["model_id"],
            tags=tags.get(key, []),
            aliases=version_aliases.get(key, []),
        )
        for key in key_list
        if (row := rows.get(key)) is not None
    ]


def latest_version_keys(conn: Connection, names: Iterable[str]) -> list[tuple[str, int]]:
    """``(name, version)`` of the newest version in each stage of each model."""
    name_list = list(names)
    if not name_list:
        return []
    newest = sa.func.max(versions.c.version)
    query = (
        sa.select(versions.c.name, newest)
        .where(versions.c.name.in_(name_list))
        .group_by(versions.c.name, versions.c.current_stage)
        .order_by(versions.c.name, newest)
    )
    return [(name, version) for name, version in conn.execute(query)]


def load_models(conn: Connection, names: Sequence[str]) -> list[RegisteredModel]:
    """The registered models with these names, in the order given."""
    if not names:
        return []
    rows = {
        row["name"]: row
        for row in conn.execute(sa.select(models).where(models.c.name.in_(names))).mappings()
    }
    latest: dict[str, list[ModelVersion]] = {}
    for version in load_versions(conn, latest_version_keys(conn, names)):
        latest.setdefault(version.name, []).append(version)
    tags: dict[str, list[KeyValue]] = {}
    for tag in conn.execute(
        sa.select(model_tags).where(model_tags.c.name.in_(names)).order_by(model_tags.c.key)
    ):
        tags.setdefault(tag.name, []).append(KeyValue(tag.key, tag.value))
    model_aliases: dict[str, list[ModelAlias]] = {}
    for alias in conn.execute(
        sa.select(aliases).where(aliases.c.name.in_(names)).order_by(aliases.c.alias)
    ):
        model_aliases.setdefault(alias.name, []).append(ModelAlias(alias.alias, alias.version))
    return [
        RegisteredModel(
            name=name,
            creation_time=row["creation_time"],
            last_updated_time=row["last_updated_time"],
            description=row["description"],
            latest_versions=latest.get(name, []),
            tags=tags.get(name, []),
            aliases=model_aliases.get(name, []),
        )
        for name in names
        if (row := rows.get(name)) is not None
    ]


def load_model(conn: Connection, name: str) -> RegisteredModel:
    found = load_models(conn, [name])
    if not found:
        raise model_not_found(name)
    return found[0]


def search_page(
    db: Database,
    target: search.Target,
    compile_query: Callable[
        [Sequence[search.Comparison], Sequence[search.OrderKey]], sa.Select[*Keys]
    ],
    load: Callable[[Connection, list[Row[*Keys]]], list[T]],
    name_column: sa.Column[str],
    *,
    filter_string: str | None,
    order_by: Sequence[str],
    max_results: int | None,
    page_token: str | None,
    visible: Visible | None,
) -> Page[T]:
    """One page of a registry search, limited to the models ``visible`` lets the caller read.

    ``compile_query`` selects the keys of the matches in order and ``load`` turns a page
    of those key rows into records; ``name_column`` is the model name ``visible`` checks.
    """
    comparisons = search.parse_filter(filter_string, target)
    order_keys = search.parse_order_by(order_by, target)
    limit = search.check_max_results(max_results, target)
    offset = search.decode_page_token(page_token)
    query = compile_query(comparisons, order_keys)
    if visible is not None:
        query = query.where(visible.clause(name_column))
    with db.read() as conn:
        with planned_for_values(conn):
            keys, token = search.fetch_page(lambda q: list(conn.execute(q)), query, offset, limit)
        found = load(conn, keys)
    return Page(found, token)


def touch_model(conn: Connection, name: str, now: int) -> None:
    conn.execute(sa.update(models).where(models.c.name == name).values(last_updated_time=now))
