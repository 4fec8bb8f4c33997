"""The lean reader of a log-batch's metrics against the pydantic messages it stands in for.

:func:`plain_points` may only accept what ``LogBatch`` accepts, with the same values; for
everything else it must step aside (``None``), so the messages answer with MLflow's error
wording as before. Checked on hand-picked cases and on many generated ones.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from service.errors import InvalidParameterValue
from service.http.messages.runs import LogBatch
from service.http.metric_points import plain_points
from service.http.parsing import SEE_DOCS, validate

MISSING = object()

KEYS = ["loss", "a/b.c-d e:f", "", "ü", "nul\x00", 5, 5.0, None, True, [], {}]
VALUES = [0.5, -0.0, 1e308, -1e308, 5e-324, 0, 1, -3, 2**53, -(2**53), 2**53 + 1, 2**63, 10**400]
VALUES += ["NaN", "Infinity", "-Infinity", "1.5", "abc", "", None, True, False, [], {}]
INTEGERS = [0, 1, -1, 1_700_000_000_000, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**64]
INTEGERS += [1.0, 1.5, "5", "abc", "", None, True, False, [], {}]
TEXTS = [None, "", "m-1", "nul\x00", 5, True, [], {}]
FIELDS: dict[str, list[Any]] = {
    "key": [*KEYS, MISSING],
    "value": [*VALUES, MISSING],
    "timestamp": [*INTEGERS, MISSING],
    "step": [*INTEGERS, MISSING],
    "model_id": [*TEXTS, MISSING],
    "dataset_name": [*TEXTS, MISSING],
    "dataset_digest": [*TEXTS, MISSING],
    "unknown": [1, "x", None, MISSING],
}
PLAIN = {"key": "loss", "value": 0.25, "timestamp": 1_700_000_000_000, "step": 3}


def through_messages(items: Any) -> list[tuple] | str:
    """What the messages make of ``items``: the store tuples, or the error message."""
    try:
        msg = validate(LogBatch, {"run_id": "r", "metrics": items})
    except InvalidParameterValue as exc:
        return exc.message
    return [m.logged() for m in msg.metrics]


def typed(points: list[tuple]) -> list[tuple]:
    """Points as the reprs of their fields, so 1 and 1.0 (or -0.0 and 0.0) differ."""
    return [tuple(map(repr, point)) for point in points]


def assert_same(items: Any) -> list[tuple] | None:
    lean = plain_points(items)
    reference = through_messages(items)
    if lean is not None:
        assert not isinstance(reference, str), (items, reference)
        assert typed(lean) == typed(reference), items
    return lean


def test_plain_batches_take_the_lean_path() -> None:
    items = [
        PLAIN,
        {"key": "acc", "value": 1, "timestamp": 0},
        {"key": "acc", "value": -0.0, "timestamp": -1, "step": 2**63 - 1, "model_id": "m-1"},
        {**PLAIN, "dataset_name": "", "dataset_digest": "d", "unknown": [1]},
    ]
    assert assert_same(items) == [
        ("loss", 0.25, 1_700_000_000_000, 3, None, None, None),
        ("acc", 1.0, 0, 0, None, None, None),
        ("acc", -0.0, -1, 2**63 - 1, "m-1", None, None),
        ("loss", 0.25, 1_700_000_000_000, 3, None, None, "d"),
    ]
    assert assert_same([]) == []


@pytest.mark.parametrize(
    "item",
    [
        {**PLAIN, "value": "NaN"},
        {**PLAIN, "value": "1.5"},
        {**PLAIN, "step": "2"},
        {**PLAIN, "timestamp": 1.0},
        {**PLAIN, "value": 2**53 + 1},
    ],
)
def test_valid_but_unusual_points_go_through_the_messages(item: dict) -> None:
    assert plain_points([PLAIN, item]) is None
    assert not isinstance(through_messages([PLAIN, item]), str)


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (None, "Missing value for required parameter 'metrics'." + SEE_DOCS),
        (
            {"key": "x"},
            'Invalid value {"key":"x"} for parameter \'metrics\' supplied:  Hint: Value was of '
            "type 'dict'." + SEE_DOCS,
        ),
        (
            [PLAIN, 5],
            "Invalid value 5 for parameter 'metrics.1' supplied:  Hint: Value was of type "
            "'int'." + SEE_DOCS,
        ),
        (
            [{**PLAIN, "value": "abc"}],
            "Invalid value \"abc\" for parameter 'metrics.0.value' "
            "supplied:  Hint: Value was of type 'str'." + SEE_DOCS,
        ),
        (
            [{**PLAIN, "value": None}],
            "Missing value for required parameter 'metrics.0.value'." + SEE_DOCS,
        ),
        (
            [{**PLAIN, "value": True}],
            "Invalid value true for parameter 'metrics.0.value' supplied:  Hint: Value was of "
            "type 'bool'." + SEE_DOCS,
        ),
        (
            [{"key": "k", "value": 1}],
            "Missing value for required parameter 'metrics.0.timestamp'." + SEE_DOCS,
        ),
        (
            [{**PLAIN, "step": None}],
            "Missing value for required parameter 'metrics.0.step'." + SEE_DOCS,
        ),
        (
            [{**PLAIN, "step": 2**63}],
            "Invalid value 9223372036854775808 for parameter "
            "'metrics.0.step' supplied: out of int64 range." + SEE_DOCS,
        ),
        (
            [{**PLAIN, "timestamp": 1.5}],
            "Invalid value 1.5 for parameter 'metrics.0.timestamp' "
            "supplied:  Hint: Value was of type 'float'." + SEE_DOCS,
        ),
        (
            [{**PLAIN, "key": 5}],
            "Invalid value 5 for parameter 'metrics.0.key' supplied:  Hint: Value was of type "
            "'int'." + SEE_DOCS,
        ),
        (
            [{**PLAIN, "key": "a\x00"}],
            "Invalid value \"a\\u0000\" for parameter 'metrics.0.key' "
            "supplied: NUL characters are not allowed." + SEE_DOCS,
        ),
        (
            [{**PLAIN, "model_id": 5}],
            "Invalid value 5 for parameter 'metrics.0.model_id' "
            "supplied:  Hint: Value was of type 'int'." + SEE_DOCS,
        ),
    ],
)
def test_bad_points_keep_the_messages_wording(items: Any, message: str) -> None:
    assert plain_points(items) is None
    assert through_messages(items) == message


def _generated_item(rng: random.Random) -> Any:
    if rng.random() < 0.02:
        return rng.choice([5, "x", None, [], [PLAIN]])
    item = dict(PLAIN)
    for name in rng.sample(list(FIELDS), rng.randint(1, 3)):
        choice = rng.choice(FIELDS[name])
        if choice is MISSING:
            item.pop(name, None)
        else:
            item[name] = choice
    return item


def test_generated_batches_agree_with_the_messages() -> None:
    rng = random.Random(20261126)
    lean_count = 0
    for _ in range(20_000):
        items = [_generated_item(rng) for _ in range(rng.randint(1, 3))]
        if assert_same(items) is not None:
            lean_count += 1
    assert lean_count > 1_000  # the lean path is exercised, not only the fallback
