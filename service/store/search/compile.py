"""Validated search AST -> SQLAlchemy Core SELECT of ids, in final order.

Each ``*_search_query`` returns a ``Select`` of one id column, filtered and ordered with a
deterministic tiebreaker; the store adds ``.offset().limit()`` and loads the page itself.

Semantics (MLflow's SQL store, unless noted):

* Attributes compare their column. A NULL column (``end_time`` of a running run) matches
  no comparison, ``!=`` included.
* Metrics, params, tags and datasets become correlated ``EXISTS`` subqueries keyed on the
  child table's primary key, so ``!=`` matches only entities that *have* the key with a
  different value, and an entity never appears twice. ``IS NULL`` is ``NOT EXISTS``.
  Run params compared with ``=``/``IN`` are ``run_uuid IN (SELECT run_uuid FROM params
  ...)`` instead: the same runs (one row per run and key), but the database can start
  from the params index on (key, value) rather than probe every run of the experiment.
* Run metrics compare the latest value (``latest_metrics``). NaN is stored as
  ``value=0, is_nan=true``: it satisfies ``!=`` and nothing else. Logged-model metrics
  match if any logged point of that model matches, as in MLflow.
* ``LIKE`` is case-sensitive (SQLite runs ``case_sensitive_like``, MySQL key/value columns
  are ``utf8mb4_bin``); ``ILIKE`` lowers both sides. Both use ``\\`` as escape character
  on every backend, so ``'50\\%'`` matches a literal ``50%``.
* Ordering puts missing values last in both directions; run metrics sort numbers, then
  NaN, then missing. Runs end with ``start_time DESC, run_uuid``; experiments with
  ``experiment_id``; logged models with ``creation_timestamp DESC, model_id``.

A registry compiler can reuse :mod:`.clauses` (``compare``, ``key_value_exists``). Note that
MLflow's registry treats ``tags.`mlflow.prompt.is_prompt` != 'true'`` specially: it
matches models *without* the tag (express it as ``NOT key_value_exists(..., EQ, 'true')``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from service.store import tables
from service.store.entities.tracking import ViewType
from service.store.search.clauses import (
    compare,
    key_value_exists,
    key_value_hashed,
    key_value_in,
    lifecycle_condition,
    metric_matches,
    one_of,
    order_terms,
)
from service.store.search.nodes import (
    Comparison,
    DatasetFilter,
    KeyType,
    Op,
    OrderKey,
)

DATASET_CONTEXT_TAG = "mlflow.data.context"


RUNS = tables.table_of(tables.Run)
LATEST_METRICS = tables.table_of(tables.LatestMetric)
METRICS = tables.table_of(tables.Metric)
PARAMS = tables.table_of(tables.Param)
RUN_TAGS = tables.table_of(tables.RunTag)
RUN_INPUTS = tables.table_of(tables.RunInput)
RUN_INPUT_TAGS = tables.table_of(tables.RunInputTag)
DATASETS = tables.table_of(tables.Dataset)
EXPERIMENTS = tables.table_of(tables.Experiment)
EXPERIMENT_TAGS = tables.table_of(tables.ExperimentTag)
LOGGED_MODELS = tables.table_of(tables.LoggedModel)
LOGGED_MODEL_PARAMS = tables.table_of(tables.LoggedModelParam)
LOGGED_MODEL_TAGS = tables.table_of(tables.LoggedModelTag)

RUN_ATTRIBUTES: dict[str, sa.Column[Any]] = {
    "run_id": RUNS.c.run_uuid,
    "run_name": RUNS.c.name,
    "status": RUNS.c.status,
    "user_id": RUNS.c.user_id,
    "artifact_uri": RUNS.c.artifact_uri,
    "lifecycle_stage": RUNS.c.lifecycle_stage,
    "start_time": RUNS.c.start_time,
    "end_time": RUNS.c.end_time,
}
EXPERIMENT_ATTRIBUTES: dict[str, sa.Column[Any]] = {
    name: EXPERIMENTS.c[name]
    for name in ("name", "experiment_id", "creation_time", "last_update_time")
}
LOGGED_MODEL_ATTRIBUTES: dict[str, sa.Column[Any]] = {
    "name": LOGGED_MODELS.c.name,
    "model_id": LOGGED_MODELS.c.model_id,
    "model_type": LOGGED_MODELS.c.model_type,
    "status": LOGGED_MODELS.c.status,
    "source_run_id": LOGGED_MODELS.c.source_run_id,
    "creation_timestamp": LOGGED_MODELS.c.creation_timestamp_ms,
    "last_updated_timestamp": LOGGED_MODELS.c.last_updated_timestamp_ms,
}


# --- runs ---------------------------------------------------------------------------------


def run_search_query(
    experiment_ids: Sequence[int],
    view_type: ViewType,
    comparisons: Sequence[Comparison] = (),
    order_keys: Sequence[OrderKey] = (),
    *,
    planner_statistics: bool = True,
) -> sa.Select[str]:
    """SELECT ``runs.run_uuid`` of matching runs, in final order.

    Without ``planner_statistics`` (:mod:`service.store.statistics`), param tests are
    written so that PostgreSQL's plan does not depend on row estimates.
    """
    query = sa.select(RUNS.c.run_uuid).where(
        one_of(RUNS.c.experiment_id, experiment_ids),
        lifecycle_condition(RUNS.c.lifecycle_stage, view_type),
        *(_run_condition(c, planner_statistics) for c in comparisons),
    )
    terms: list[ColumnElement[Any]] = []
    for i, key in enumerate(order_keys):
        if key.key_type is KeyType.ATTRIBUTE:
            column = RUN_ATTRIBUTES[key.key]
            terms += order_terms(column, key.ascending, nullable=bool(column.nullable))
            continue
        child = {KeyType.METRIC: LATEST_METRICS, KeyType.PARAM: PARAMS, KeyType.TAG: RUN_TAGS}[
            key.key_type
        ].alias(f"order_{i}")
        query = query.outerjoin(
            child, sa.and_(child.c.run_uuid == RUNS.c.run_uuid, child.c.key == key.key)
        )
        if key.key_type is KeyType.METRIC:
            # Numbers first, then NaN, then runs without the metric, in both directions.
            rank = sa.case((child.c.is_nan == sa.true(), 1), (child.c.value.is_(None), 2), else_=0)
            terms += [rank, child.c.value.asc() if key.ascending else child.c.value.desc()]
        else:
            terms += order_terms(child.c.value, key.ascending)
    if not any(k.key_type is KeyType.ATTRIBUTE and k.key == "start_time" for k in order_keys):
        terms.append(RUNS.c.start_time.desc())
    terms.append(RUNS.c.run_uuid.asc())
    return query.order_by(*terms)


def _run_condition(c: Comparison, planner_statistics: bool) -> ColumnElement[bool]:
    if c.key_type is KeyType.ATTRIBUTE:
        return compare(RUN_ATTRIBUTES[c.key], c.op, c.value)
    if c.key_type is KeyType.METRIC:
        lm = LATEST_METRICS
        return sa.exists().where(
            lm.c.run_uuid == RUNS.c.run_uuid, lm.c.key == c.key, metric_matches(lm, c.op, c.value)
        )
    if c.key_type is KeyType.PARAM and c.op in (Op.EQ, Op.IN):
        values = cast(tuple[str, ...], c.value if c.op is Op.IN else (c.value,))
        return key_value_in(
            RUNS.c.run_uuid, PARAMS, PARAMS.c.run_uuid, c.key, values, hashed=not planner_statistics
        )
    if c.key_type is KeyType.PARAM and not planner_statistics:
        return key_value_hashed(RUNS.c.run_uuid, PARAMS, PARAMS.c.run_uuid, c.key, c.op, c.value)
    if c.key_type in (KeyType.PARAM, KeyType.TAG):
        child = PARAMS if c.key_type is KeyType.PARAM else RUN_TAGS
        return key_value_exists(child, [(child.c.run_uuid, RUNS.c.run_uuid)], c.key, c.op, c.value)
    if c.key == "context":
        return key_value_exists(
            RUN_INPUT_TAGS,
            [(RUN_INPUT_TAGS.c.run_uuid, RUNS.c.run_uuid)],
            DATASET_CONTEXT_TAG,
            c.op,
            c.value,
        )
    return sa.exists().where(
        RUN_INPUTS.c.run_uuid == RUNS.c.run_uuid,
        DATASETS.c.dataset_uuid == RUN_INPUTS.c.dataset_uuid,
        compare(DATASETS.c[c.key], c.op, c.value),
    )


# --- experiments --------------------------------------------------------------------------


def experiment_search_query(
    view_type: ViewType,
    comparisons: Sequence[Comparison] = (),
    order_keys: Sequence[OrderKey] = (),
) -> sa.Select[int]:
    """SELECT ``experiments.experiment_id`` of matching experiments, in final order."""
    exp = EXPERIMENTS
    conditions = [lifecycle_condition(exp.c.lifecycle_stage, view_type)]
    for c in comparisons:
        if c.key_type is KeyType.ATTRIBUTE:
            conditions.append(compare(EXPERIMENT_ATTRIBUTES[c.key], c.op, c.value))
        else:
            conditions.append(
                key_value_exists(
                    EXPERIMENT_TAGS,
                    [(EXPERIMENT_TAGS.c.experiment_id, exp.c.experiment_id)],
                    c.key,
                    c.op,
                    c.value,
                )
            )
    keys = list(order_keys) or [
        OrderKey(KeyType.ATTRIBUTE, "creation_time", ascending=False),
        OrderKey(KeyType.ATTRIBUTE, "experiment_id"),
    ]
    terms = [
        term
        for k in keys
        for term in order_terms(EXPERIMENT_ATTRIBUTES[k.key], k.ascending, nullable=False)
    ]
    if not any(k.key == "experiment_id" for k in keys):
        terms.append(exp.c.experiment_id.desc())
    return sa.select(exp.c.experiment_id).where(*conditions).order_by(*terms)


# --- logged models ------------------------------------------------------------------------


def logged_model_search_query(
    experiment_ids: Sequence[int],
    comparisons: Sequence[Comparison] = (),
    order_keys: Sequence[OrderKey] = (),
    datasets: Sequence[DatasetFilter] = (),
) -> sa.Select[str]:
    """SELECT ``logged_models.model_id`` of matching, non-deleted models, in final order.

    With ``datasets``, metric comparisons only look at metrics logged on one of them, and a
    model without any metric on them is excluded.
    """
    lm, m = LOGGED_MODELS, METRICS
    on_datasets = [
        sa.and_(m.c.dataset_name == d.name, *([m.c.dataset_digest == d.digest] if d.digest else []))
        for d in datasets
    ]
    dataset_condition = [sa.or_(*on_datasets)] if on_datasets else []
    conditions = [
        one_of(lm.c.experiment_id, experiment_ids),
        lm.c.lifecycle_stage != "deleted",
    ]
    for c in comparisons:
        if c.key_type is KeyType.ATTRIBUTE:
            conditions.append(compare(LOGGED_MODEL_ATTRIBUTES[c.key], c.op, c.value))
        elif c.key_type is KeyType.METRIC:
            conditions.append(
                sa.exists().where(
                    m.c.model_id == lm.c.model_id,
                    m.c.key == c.key,
                    metric_matches(m, c.op, c.value),
                    *dataset_condition,
                )
            )
        else:
            child = LOGGED_MODEL_PARAMS if c.key_type is KeyType.PARAM else LOGGED_MODEL_TAGS
            conditions.append(
                key_value_exists(child, [(child.c.model_id, lm.c.model_id)], c.key, c.op, c.value)
            )
    if dataset_condition and not any(c.key_type is KeyType.METRIC for c in comparisons):
        conditions.append(sa.exists().where(m.c.model_id == lm.c.model_id, *dataset_condition))

    terms: list[ColumnElement[Any]] = []
    for key in order_keys:
        if key.key_type is KeyType.ATTRIBUTE:
            column = LOGGED_MODEL_ATTRIBUTES[key.key]
            terms += order_terms(column, key.ascending, nullable=bool(column.nullable))
        else:
            terms += order_terms(_latest_model_metric(key), key.ascending)
    attribute_keys = {k.key for k in order_keys if k.key_type is KeyType.ATTRIBUTE}
    if "creation_timestamp" not in attribute_keys:
        terms.append(lm.c.creation_timestamp_ms.desc())
    if "model_id" not in attribute_keys:
        terms.append(lm.c.model_id.asc())
    return sa.select(lm.c.model_id).where(*conditions).order_by(*terms)


def _latest_model_metric(key: OrderKey) -> ColumnElement[Any]:
    """The model's latest value of metric ``key`` (NULL if missing or NaN), as MLflow sorts."""
    m, lm = METRICS.alias("order_metric"), LOGGED_MODELS
    where = [m.c.model_id == lm.c.model_id, m.c.key == key.key]
    if key.dataset_name:
        where.append(m.c.dataset_name == key.dataset_name)
    if key.dataset_digest:
        where.append(m.c.dataset_digest == key.dataset_digest)
    return (
        sa.select(sa.case((m.c.is_nan == sa.true(), sa.null()), else_=m.c.value))
        .where(*where)
        .order_by(m.c.timestamp.desc(), m.c.step.desc(), m.c.run_uuid.asc())
        .limit(1)
        .scalar_subquery()
    )
