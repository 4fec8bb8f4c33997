"""Opaque page tokens and ``max_results`` limits, as MLflow's server has them.

A token is base64 of JSON ``{"offset": n}`` (``eyJvZmZzZXQiOiAyfQ==`` is offset 2), the
format the real server emits; clients only echo it back. Stores fetch ``limit + 1`` rows
and emit a token only when that extra row exists.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from service.errors import InvalidParameterValue
from service.store.db import AnySelect
from service.store.search.targets import Target

#: Larger offsets cannot be bound as a BIGINT on every backend.
MAX_OFFSET = 2**62

R = TypeVar("R")


def encode_page_token(offset: int) -> str:
    """The token for the page starting at row ``offset``."""
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The row offset a token points at; no token (or an empty one) is the first page."""
    if not token:
        return 0
    try:
        decoded = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidParameterValue("Invalid page token, could not base64-decode") from exc
    try:
        parsed = json.loads(decoded)
    except ValueError as exc:
        raise InvalidParameterValue(f"Invalid page token, decoded value={decoded!r}") from exc
    offset = parsed.get("offset") if isinstance(parsed, dict) else None
    if isinstance(offset, str) and offset.isdigit():
        offset = int(offset)
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise InvalidParameterValue(f"Invalid page token, parsed value={parsed!r}")
    return offset


def fetch_page(
    fetch: Callable[[AnySelect], list[R]], query: AnySelect, offset: int, limit: int | None
) -> tuple[list[R], str | None]:
    """The rows of ``query`` from ``offset``, at most ``limit``, and the next page's token.

    ``fetch`` runs a query on the caller's connection and chooses the shape of the rows.
    One row past ``limit`` is asked for, so a token comes only when more rows exist. No
    ``limit``: every row from ``offset``, and no token.
    """
    if limit is None:
        return fetch(query.offset(offset)), None
    rows = fetch(query.offset(offset).limit(limit + 1))
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_page_token(offset + limit)


@dataclass(frozen=True)
class ResultLimits:
    default: int
    maximum: int = MAX_OFFSET


#: MLflow's defaults and ceilings per search endpoint (``mlflow.store.*.__init__``).
LIMITS: dict[Target, ResultLimits] = {
    Target.RUNS: ResultLimits(default=1000, maximum=50_000),
    Target.EXPERIMENTS: ResultLimits(default=1000, maximum=50_000),
    Target.REGISTERED_MODELS: ResultLimits(default=100, maximum=1000),
    Target.MODEL_VERSIONS: ResultLimits(default=10_000, maximum=200_000),
    Target.LOGGED_MODELS: ResultLimits(default=100),  # MLflow sets no ceiling
    Target.TRACES: ResultLimits(default=100, maximum=50_000),
}


def check_max_results(max_results: int | None, target: Target) -> int:
    """The page size to use: the target's default when absent, else the validated value."""
    limits = LIMITS[target]
    if max_results is None:
        return limits.default
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be "
            "a positive integer"
        )
    if max_results > limits.maximum:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at "
            f"most {limits.maximum}"
        )
    return max_results
