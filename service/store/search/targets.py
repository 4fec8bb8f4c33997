"""What each search endpoint accepts: key types, attribute names and aliases, operators.

One :class:`TargetSpec` per :class:`Target`. The parser consults it to reject a bad
filter with MLflow's messages before any SQL is built; the compiler can then trust the AST.
Where MLflow is stricter than needed (e.g. ``IN`` only on ``run_id``), Stratus accepts the
superset, since no client can depend on a 400 there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from service.store.search.nodes import KeyType, Op


class Target(Enum):
    RUNS = "runs"
    EXPERIMENTS = "experiments"
    REGISTERED_MODELS = "registered models"
    MODEL_VERSIONS = "model versions"
    LOGGED_MODELS = "logged models"
    TRACES = "traces"


class AttrKind(Enum):
    STRING = "string"
    NUMBER = "number"
    #: An integer primary key sent as a string on the wire (``experiment_id``).
    INTEGER_ID = "integer id"


NUMERIC_OPS: tuple[Op, ...] = (Op.GT, Op.GE, Op.NE, Op.EQ, Op.LT, Op.LE)
STRING_OPS: tuple[Op, ...] = (Op.NE, Op.EQ, Op.LIKE, Op.ILIKE, Op.IN, Op.NOT_IN)
KEY_VALUE_OPS: tuple[Op, ...] = (Op.NE, Op.EQ, Op.LIKE, Op.ILIKE, Op.IN, Op.NOT_IN)
NULLABLE_KEY_VALUE_OPS: tuple[Op, ...] = (*KEY_VALUE_OPS, Op.IS_NULL, Op.IS_NOT_NULL)
ID_OPS: tuple[Op, ...] = (Op.EQ, Op.NE, Op.IN, Op.NOT_IN)

ATTR_OPS: dict[AttrKind, tuple[Op, ...]] = {
    AttrKind.STRING: STRING_OPS,
    AttrKind.NUMBER: NUMERIC_OPS,
    AttrKind.INTEGER_ID: ID_OPS,
}

#: Prefix spelling -> key type; MLflow's aliases, matched case-insensitively.
PREFIXES: dict[str, KeyType] = {
    "metric": KeyType.METRIC,
    "metrics": KeyType.METRIC,
    "param": KeyType.PARAM,
    "params": KeyType.PARAM,
    "parameter": KeyType.PARAM,
    "parameters": KeyType.PARAM,
    "tag": KeyType.TAG,
    "tags": KeyType.TAG,
    "attribute": KeyType.ATTRIBUTE,
    "attributes": KeyType.ATTRIBUTE,
    "attr": KeyType.ATTRIBUTE,
    "run": KeyType.ATTRIBUTE,
    "dataset": KeyType.DATASET,
    "datasets": KeyType.DATASET,
}

DATASET_KEYS: tuple[str, ...] = ("name", "digest", "context")
#: The span columns a trace filter can test (``span.name = 'retrieve'``).
SPAN_KEYS: tuple[str, ...] = ("name", "type", "status", "content")

#: Trace filters have their own prefixes (``trace.status``, ``metadata.x``, ``span.name``).
TRACE_PREFIXES: dict[str, KeyType] = {
    "tag": KeyType.TAG,
    "tags": KeyType.TAG,
    "attribute": KeyType.ATTRIBUTE,
    "attributes": KeyType.ATTRIBUTE,
    "trace": KeyType.ATTRIBUTE,
    "metadata": KeyType.METADATA,
    "request_metadata": KeyType.METADATA,
    "span": KeyType.SPAN,
}


@dataclass(frozen=True)
class Attribute:
    name: str
    kind: AttrKind


@dataclass(frozen=True)
class TargetSpec:
    """The accepted vocabulary of one search endpoint."""

    target: Target
    #: Every accepted spelling (canonical names and aliases) -> the canonical attribute.
    attributes: Mapping[str, Attribute]
    #: Operators per non-attribute key type; a key type absent here is not searchable.
    key_ops: Mapping[KeyType, tuple[Op, ...]]
    #: Spellings accepted in order_by (a subset of, or aliases into, ``attributes``).
    order_attributes: Mapping[str, Attribute]
    order_key_types: frozenset[KeyType] = field(default=frozenset({KeyType.ATTRIBUTE}))
    #: Logged-model filters take ``params.C = 0.1`` and compare the literal's text.
    numbers_as_strings: bool = False
    #: Key prefixes, when the target has its own (traces); else :data:`PREFIXES`.
    prefixes: Mapping[str, KeyType] = field(default_factory=lambda: PREFIXES)

    def key_types(self) -> frozenset[KeyType]:
        return frozenset({KeyType.ATTRIBUTE, *self.key_ops})

    def ops_for(self, key_type: KeyType, attribute: Attribute | None) -> tuple[Op, ...]:
        if attribute is not None:
            return ATTR_OPS[attribute.kind]
        return self.key_ops[key_type]


def _attrs(*items: tuple[str, AttrKind] | tuple[str, AttrKind, str]) -> dict[str, Attribute]:
    """Build a spelling table from ``(spelling, kind)`` or ``(alias, kind, canonical)``."""
    table: dict[str, Attribute] = {}
    for item in items:
        spelling, kind = item[0], item[1]
        canonical = item[2] if len(item) == 3 else spelling
        table[spelling] = Attribute(canonical, kind)
    return table


S, N, ID = AttrKind.STRING, AttrKind.NUMBER, AttrKind.INTEGER_ID

_RUN_ATTRS = _attrs(
    ("run_id", S),
    ("run_name", S),
    ("status", S),
    ("user_id", S),
    ("artifact_uri", S),
    ("lifecycle_stage", S),
    ("start_time", N),
    ("end_time", N),
    ("created", N, "start_time"),
    ("Created", N, "start_time"),
    ("run name", S, "run_name"),
    ("Run name", S, "run_name"),
    ("Run Name", S, "run_name"),
)
_EXPERIMENT_ATTRS = _attrs(
    ("name", S), ("experiment_id", ID), ("creation_time", N), ("last_update_time", N)
)
_LOGGED_MODEL_ATTRS = _attrs(
    ("name", S),
    ("model_id", S),
    ("model_type", S),
    ("status", S),
    ("source_run_id", S),
    ("creation_timestamp", N),
    ("creation_time", N, "creation_timestamp"),
    ("last_updated_timestamp", N),
    ("last_updated_time", N, "last_updated_timestamp"),
)

_TRACE_ORDER_ATTRS = _attrs(
    ("request_id", S),
    ("status", S),
    ("experiment_id", ID),
    ("timestamp_ms", N),
    ("timestamp", N, "timestamp_ms"),
    ("execution_time_ms", N),
    ("execution_time", N, "execution_time_ms"),
    ("end_time_ms", N),
    ("end_time", N, "end_time_ms"),
)
#: ``name`` is the trace-name tag and ``run_id`` the source run (metadata) or a linked run.
_TRACE_ATTRS = {
    **_TRACE_ORDER_ATTRS,
    **_attrs(("client_request_id", S), ("name", S), ("run_id", S)),
}

SPECS: dict[Target, TargetSpec] = {
    Target.RUNS: TargetSpec(
        target=Target.RUNS,
        attributes=_RUN_ATTRS,
        key_ops={
            KeyType.METRIC: NUMERIC_OPS,
            KeyType.PARAM: NULLABLE_KEY_VALUE_OPS,
            KeyType.TAG: NULLABLE_KEY_VALUE_OPS,
            KeyType.DATASET: STRING_OPS,
        },
        order_attributes={k: v for k, v in _RUN_ATTRS.items() if v.name != "lifecycle_stage"},
        order_key_types=frozenset({KeyType.ATTRIBUTE, KeyType.METRIC, KeyType.PARAM, KeyType.TAG}),
    ),
    Target.EXPERIMENTS: TargetSpec(
        target=Target.EXPERIMENTS,
        attributes=_EXPERIMENT_ATTRS,
        key_ops={KeyType.TAG: NULLABLE_KEY_VALUE_OPS},
        order_attributes=_EXPERIMENT_ATTRS,
    ),
    Target.REGISTERED_MODELS: TargetSpec(
        target=Target.REGISTERED_MODELS,
        attributes=_attrs(("name", S)),
        key_ops={KeyType.TAG: KEY_VALUE_OPS},
        order_attributes=_attrs(
            ("name", S),
            ("creation_timestamp", N),
            ("last_updated_timestamp", N),
            ("timestamp", N, "last_updated_timestamp"),
        ),
    ),
    Target.MODEL_VERSIONS: TargetSpec(
        target=Target.MODEL_VERSIONS,
        attributes=_attrs(("name", S), ("run_id", S), ("source_path", S), ("version_number", N)),
        key_ops={KeyType.TAG: KEY_VALUE_OPS},
        order_attributes=_attrs(
            ("name", S),
            ("version_number", N),
            ("creation_timestamp", N),
            ("last_updated_timestamp", N),
        ),
    ),
    Target.LOGGED_MODELS: TargetSpec(
        target=Target.LOGGED_MODELS,
        attributes=_LOGGED_MODEL_ATTRS,
        key_ops={
            KeyType.METRIC: NUMERIC_OPS,
            KeyType.PARAM: STRING_OPS,
            KeyType.TAG: STRING_OPS,
        },
        order_attributes=_LOGGED_MODEL_ATTRS,
        order_key_types=frozenset({KeyType.ATTRIBUTE, KeyType.METRIC}),
        numbers_as_strings=True,
    ),
    Target.TRACES: TargetSpec(
        target=Target.TRACES,
        attributes=_TRACE_ATTRS,
        key_ops={
            KeyType.TAG: NULLABLE_KEY_VALUE_OPS,
            KeyType.METADATA: NULLABLE_KEY_VALUE_OPS,
            KeyType.SPAN: STRING_OPS,
        },
        order_attributes=_TRACE_ORDER_ATTRS,
        prefixes=TRACE_PREFIXES,
    ),
}
