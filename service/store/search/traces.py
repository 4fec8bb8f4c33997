"""Trace search: the validated filter and order_by of ``search_traces`` -> SQLAlchemy Core.

Attributes are columns of ``traces`` (``end_time_ms`` is computed), except two keys MLflow
maps elsewhere: ``name`` is the ``mlflow.traceName`` tag and ``run_id`` is the source-run
metadata or a link made with ``link_traces_to_run``. ``span.<name|type|status|content>`` and
``span.attributes.<key>`` match traces with at least one such span.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from service.store.search.clauses import compare, key_value_exists, one_of, order_terms
from service.store.search.nodes import Comparison, KeyType, Op, OrderKey
from service.store.tables import (
    Span,
    SpanAttribute,
    Trace,
    TraceMetadata,
    TraceRun,
    TraceTag,
    table_of,
)

traces = table_of(Trace)
trace_tags = table_of(TraceTag)
trace_metadata = table_of(TraceMetadata)
trace_runs = table_of(TraceRun)
spans = table_of(Span)
span_attributes = table_of(SpanAttribute)

TRACE_NAME_TAG = "mlflow.traceName"
SOURCE_RUN_METADATA = "mlflow.sourceRun"
SPAN_ATTRIBUTE_PREFIX = "attributes."

_COLUMNS: dict[str, ColumnElement[Any]] = {
    "request_id": traces.c.trace_id,
    "status": traces.c.state,
    "experiment_id": traces.c.experiment_id,
    "timestamp_ms": traces.c.request_time,
    "execution_time_ms": traces.c.execution_duration,
    "end_time_ms": traces.c.request_time + traces.c.execution_duration,
    "client_request_id": traces.c.client_request_id,
}
_SPAN_COLUMNS: dict[str, ColumnElement[Any]] = {
    "name": spans.c.name,
    "type": spans.c.span_type,
    "status": spans.c.status,
    "content": spans.c.content,
}


def trace_search_query(
    experiment_ids: Sequence[int],
    comparisons: Sequence[Comparison],
    order_keys: Sequence[OrderKey],
) -> sa.Select[tuple[str]]:
    """Ids of the live traces of ``experiment_ids`` that match, in the requested order
    (newest first by default; the trace id breaks ties so pages never overlap)."""
    query = sa.select(traces.c.trace_id).where(
        one_of(traces.c.experiment_id, list(experiment_ids)), traces.c.deleted_time.is_(None)
    )
    for comparison in comparisons:
        query = query.where(_condition(comparison))
    terms: list[ColumnElement[Any]] = []
    for key in order_keys:
        column = _COLUMNS[key.key]
        # Columns that cannot be NULL sort on their own, so an index gives the order.
        nullable = not isinstance(column, sa.Column) or bool(column.nullable)
        terms += order_terms(column, key.ascending, nullable=nullable)
    if not any(key.key == "timestamp_ms" for key in order_keys):
        terms.append(traces.c.request_time.desc())
    terms.append(traces.c.trace_id)
    return query.order_by(*terms)


def _condition(c: Comparison) -> ColumnElement[bool]:
    link = [(trace_tags.c.trace_id, traces.c.trace_id)]
    if c.key_type is KeyType.TAG:
        return key_value_exists(trace_tags, link, c.key, c.op, c.value)
    if c.key_type is KeyType.METADATA:
        meta_link = [(trace_metadata.c.trace_id, traces.c.trace_id)]
        return key_value_exists(trace_metadata, meta_link, c.key, c.op, c.value)
    if c.key_type is KeyType.SPAN and c.key.startswith(SPAN_ATTRIBUTE_PREFIX):
        return sa.exists().where(
            span_attributes.c.trace_id == traces.c.trace_id,
            span_attributes.c.key == c.key[len(SPAN_ATTRIBUTE_PREFIX) :],
            compare(span_attributes.c.value, c.op, c.value),
        )
    if c.key_type is KeyType.SPAN:
        return sa.exists().where(
            spans.c.trace_id == traces.c.trace_id, compare(_SPAN_COLUMNS[c.key], c.op, c.value)
        )
    if c.key == "name":
        return key_value_exists(trace_tags, link, TRACE_NAME_TAG, c.op, c.value)
    if c.key == "run_id":
        return _run_condition(c)
    return compare(_COLUMNS[c.key], c.op, c.value)


def _run_condition(c: Comparison) -> ColumnElement[bool]:
    """The source run (metadata) or a linked run; ``!=``/``NOT IN`` mean neither matches."""
    negated = {Op.NE: Op.EQ, Op.NOT_IN: Op.IN}
    op = negated.get(c.op, c.op)
    meta_link = [(trace_metadata.c.trace_id, traces.c.trace_id)]
    matches = sa.or_(
        key_value_exists(trace_metadata, meta_link, SOURCE_RUN_METADATA, op, c.value),
        sa.exists().where(
            trace_runs.c.trace_id == traces.c.trace_id, compare(trace_runs.c.run_id, op, c.value)
        ),
    )
    return ~matches if c.op in negated else matches
