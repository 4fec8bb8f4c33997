"""MLflow's validation rules for names, values and batch sizes.

These are domain rules, checked by the stores before anything is written, so every
violation is a 400 ``INVALID_PARAMETER_VALUE`` and never a database error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from service.errors import InvalidParameterValue
from service.store.entities.common import KeyValue
from service.store.entities.tracking import LoggedPoint, MetricPoint

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 8000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 5000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_RUN_NAME_LENGTH = 500
MAX_ARTIFACT_LOCATION_LENGTH = 1000
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_DOUBLE = 1.7976931348623157e308
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_VALID_KEY = re.compile(r"^[/\w.\- :]*$")


def validate_key(key: str, kind: str = "param") -> None:
    """Keys: up to 250 characters of letters, digits, ``_ - . : /`` and spaces; no ``..``."""
    if not key:
        raise InvalidParameterValue(f"Invalid {kind} name: '{key}'. Names may not be empty.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidParameterValue(
            f"'{key[:50]}...' exceeds the maximum length for {kind} keys: "
            f"{len(key)} > {MAX_KEY_LENGTH}"
        )
    if not _VALID_KEY.match(key):
        raise InvalidParameterValue(
            f"Invalid {kind} name: '{key}'. Names may only contain alphanumerics, underscores "
            "(_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/)."
        )
    if any(part == ".." for part in key.split("/")) or key.startswith("/"):
        raise InvalidParameterValue(
            f"Invalid {kind} name: '{key}'. Names cannot refer to a parent or absolute path."
        )


def validate_length(value: str, limit: int, what: str) -> None:
    if len(value) > limit:
        raise InvalidParameterValue(
            f"'{what}' exceeds the maximum length of {limit} characters (got {len(value)})"
        )


def validate_params(params: Sequence[KeyValue]) -> None:
    for param in params:
        validate_key(param.key, "param")
        validate_length(param.value, MAX_PARAM_VALUE_LENGTH, f"value of param '{param.key}'")


def validate_tags(tags: Sequence[KeyValue], value_limit: int = MAX_TAG_VALUE_LENGTH) -> None:
    for tag in tags:
        validate_key(tag.key, "tag")
        validate_length(tag.value, value_limit, f"value of tag '{tag.key}'")


def validate_points(points: Sequence[LoggedPoint]) -> None:
    """Metric keys (each distinct key once: a batch repeats its keys), then int64 ranges."""
    for key in dict.fromkeys([point[0] for point in points]):
        validate_key(key, "metric")
    for point in points:
        timestamp, step = point[2], point[3]
        if not (INT64_MIN <= timestamp <= INT64_MAX and INT64_MIN <= step <= INT64_MAX):
            for name, number in (("timestamp", timestamp), ("step", step)):
                if not INT64_MIN <= number <= INT64_MAX:
                    raise InvalidParameterValue(
                        f"Invalid value {number} for parameter '{name}' supplied: "
                        "out of int64 range"
                    )


def validate_metrics(metrics: Sequence[MetricPoint]) -> None:
    validate_points([metric.logged() for metric in metrics])


def validate_batch_sizes(metrics: int, params: int, tags: int) -> None:
    if metrics > MAX_METRICS_PER_BATCH:
        raise InvalidParameterValue(
            f"A batch logging request can contain at most {MAX_METRICS_PER_BATCH} metrics. "
            f"Got {metrics} metrics. Split them across several requests."
        )
    if params > MAX_PARAMS_PER_BATCH:
        raise InvalidParameterValue(
            f"A batch logging request can contain at most {MAX_PARAMS_PER_BATCH} params. "
            f"Got {params} params. Split them across several requests."
        )
    if tags > MAX_TAGS_PER_BATCH:
        raise InvalidParameterValue(
            f"A batch logging request can contain at most {MAX_TAGS_PER_BATCH} tags. "
            f"Got {tags} tags. Split them across several requests."
        )
    if metrics + params + tags > MAX_ENTITIES_PER_BATCH:
        raise InvalidParameterValue(
            f"A batch logging request can contain at most {MAX_ENTITIES_PER_BATCH} total "
            f"metrics, params and tags. Got {metrics + params + tags}."
        )


def storable_metric_value(value: float) -> tuple[float, bool]:
    """``(value, is_nan)`` as stored: NaN as 0 with a flag, ±inf clamped to ±max double."""
    if math.isnan(value):
        return 0.0, True
    if math.isinf(value):
        return (MAX_DOUBLE if value > 0 else -MAX_DOUBLE), False
    return value, False
