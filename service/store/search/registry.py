"""Validated registry search AST -> SQLAlchemy Core SELECTs of registered models and versions.

Semantics follow MLflow's SQL registry store:

* Attributes compare their column; tags are correlated ``EXISTS`` on the tag table, so
  ``tags.k != 'v'`` matches entities that have ``k`` with another value.
* Prompts (MLflow 3 stores them as registered models tagged ``mlflow.prompt.is_prompt =
  'true'``) are left out unless the filter asks for them with ``= 'true'`` or
  ``!= 'false'`` on that tag. The client appends ``tag.`mlflow.prompt.is_prompt` != 'true'``
  to every model search: that term only excludes prompts, so it also matches models
  without the tag. A model version counts as a prompt when a version of its model carries
  the tag, as in MLflow.
* Registered models end with ``name ASC``; versions default to ``last_updated_timestamp
  DESC, name ASC, version_number DESC`` and end with ``name ASC, version DESC``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from service.store import tables
from service.store.search.clauses import compare, key_value_exists
from service.store.search.nodes import Comparison, KeyType, Op, OrderKey

PROMPT_TAG = "mlflow.prompt.is_prompt"

MODELS = tables.table_of(tables.RegisteredModel)
MODEL_TAGS = tables.table_of(tables.RegisteredModelTag)
VERSIONS = tables.table_of(tables.ModelVersion)
VERSION_TAGS = tables.table_of(tables.ModelVersionTag)

MODEL_ATTRIBUTES: dict[str, sa.Column[Any]] = {
    "name": MODELS.c.name,
    "creation_timestamp": MODELS.c.creation_time,
    "last_updated_timestamp": MODELS.c.last_updated_time,
}
VERSION_ATTRIBUTES: dict[str, sa.Column[Any]] = {
    "name": VERSIONS.c.name,
    "run_id": VERSIONS.c.run_id,
    "source_path": VERSIONS.c.source,
    "version_number": VERSIONS.c.version,
    "creation_timestamp": VERSIONS.c.creation_time,
    "last_updated_timestamp": VERSIONS.c.last_updated_time,
}
DEFAULT_VERSION_ORDER = (
    OrderKey(KeyType.ATTRIBUTE, "last_updated_timestamp", ascending=False),
    OrderKey(KeyType.ATTRIBUTE, "name"),
    OrderKey(KeyType.ATTRIBUTE, "version_number", ascending=False),
)


def registered_model_search_query(
    comparisons: Sequence[Comparison] = (), order_keys: Sequence[OrderKey] = ()
) -> sa.Select[str]:
    """SELECT ``registered_models.name`` of matching models, in final order."""
    link = [(MODEL_TAGS.c.name, MODELS.c.name)]
    conditions = _conditions(comparisons, MODEL_ATTRIBUTES, MODEL_TAGS, link)
    terms = [_direction(MODEL_ATTRIBUTES[k.key], k.ascending) for k in order_keys]
    if not any(k.key == "name" for k in order_keys):
        terms.append(MODELS.c.name.asc())
    return sa.select(MODELS.c.name).where(*conditions).order_by(*terms)


def model_version_search_query(
    comparisons: Sequence[Comparison] = (), order_keys: Sequence[OrderKey] = ()
) -> sa.Select[str, int]:
    """SELECT ``(name, version)`` of matching model versions, in final order."""
    link = [(VERSION_TAGS.c.name, VERSIONS.c.name), (VERSION_TAGS.c.version, VERSIONS.c.version)]
    # A version is a prompt's when any version of its model is tagged as one.
    prompt_link = [(VERSION_TAGS.c.name, VERSIONS.c.name)]
    conditions = _conditions(comparisons, VERSION_ATTRIBUTES, VERSION_TAGS, link, prompt_link)
    keys = list(order_keys) or list(DEFAULT_VERSION_ORDER)
    terms = [_direction(VERSION_ATTRIBUTES[k.key], k.ascending) for k in keys]
    if not any(k.key == "name" for k in keys):
        terms.append(VERSIONS.c.name.asc())
    if not any(k.key == "version_number" for k in keys):
        terms.append(VERSIONS.c.version.desc())
    return sa.select(VERSIONS.c.name, VERSIONS.c.version).where(*conditions).order_by(*terms)


def _conditions(
    comparisons: Sequence[Comparison],
    attributes: dict[str, sa.Column[Any]],
    tags: sa.Table,
    link: Sequence[tuple[ColumnElement[Any], ColumnElement[Any]]],
    prompt_link: Sequence[tuple[ColumnElement[Any], ColumnElement[Any]]] | None = None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    wants_prompts = _asks_for_prompts(comparisons)
    for c in comparisons:
        if c.key_type is KeyType.ATTRIBUTE:
            conditions.append(compare(attributes[c.key], c.op, c.value))
        elif c.key != PROMPT_TAG or wants_prompts:
            conditions.append(key_value_exists(tags, link, c.key, c.op, c.value))
    if not wants_prompts:
        conditions.append(~key_value_exists(tags, prompt_link or link, PROMPT_TAG, Op.EQ, "true"))
    return conditions


def _asks_for_prompts(comparisons: Sequence[Comparison]) -> bool:
    """Whether the filter selects prompts, as MLflow decides from its first prompt-tag term."""
    for c in comparisons:
        if c.key_type is KeyType.TAG and c.key == PROMPT_TAG and isinstance(c.value, str):
            value = c.value.lower()
            return (c.op is Op.EQ and value == "true") or (c.op is Op.NE and value == "false")
    return False


def _direction(column: sa.Column[Any], ascending: bool) -> ColumnElement[Any]:
    return column.asc() if ascending else column.desc()
