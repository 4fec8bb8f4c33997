"""The typed inputs of the search compiler: the parsed AST and the dataset option.

Every node is already validated for its search target: keys are canonical (aliases such as
``created`` or ``creation_time`` are resolved), operators are legal for the key, and values
have the right type (numbers for metrics and numeric attributes, strings otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class KeyType(StrEnum):
    """What a key names: a column of the entity itself, or a row of a child table."""

    ATTRIBUTE = "attribute"
    METRIC = "metric"
    PARAM = "param"
    TAG = "tag"
    DATASET = "dataset"
    #: Traces only: trace metadata (``metadata.x``) and span columns (``span.name``).
    METADATA = "metadata"
    SPAN = "span"


class Op(StrEnum):
    """Comparison operators; the value is the canonical spelling used in messages."""

    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    LIKE = "LIKE"
    ILIKE = "ILIKE"
    IN = "IN"
    NOT_IN = "NOT IN"
    IS_NULL = "IS NULL"
    IS_NOT_NULL = "IS NOT NULL"


#: A comparison's right-hand side: a string, a number, a non-empty list (IN / NOT IN; ints
#: for integer ids such as ``experiment_id``), or None for IS [NOT] NULL.
Value = str | int | float | tuple[str, ...] | tuple[int, ...] | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One ``key op value`` term of an AND-ed filter."""

    key_type: KeyType
    key: str
    op: Op
    value: Value


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One order_by term. ``dataset_*`` narrow a logged-model metric to one dataset."""

    key_type: KeyType
    key: str
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(frozen=True)
class DatasetFilter:
    """Logged-model search's ``datasets`` entry: metrics must be on this dataset."""

    name: str
    digest: str | None = None
