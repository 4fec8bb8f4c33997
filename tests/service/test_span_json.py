"""The stored span JSON, written straight from the protobuf fields, is byte for byte what
protobuf's own ``MessageToDict`` gives, on spans using every field and every value kind."""

from __future__ import annotations

import json
import random

import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from service.http.wire.spans import span_json


def _reference(span: Span) -> str:
    return json.dumps(
        MessageToDict(span, preserving_proto_field_name=True),
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _value(rng: random.Random, depth: int) -> AnyValue:
    value = AnyValue()
    kind = rng.randrange(10 if depth < 3 else 7)
    if kind == 0:
        value.string_value = rng.choice(["", "plain", '"quoted"', "ünï\u2603 ✓", "a\nb\x00"])
    elif kind == 1:
        value.bool_value = rng.choice([True, False])
    elif kind == 2:
        value.int_value = rng.choice([0, 1, -7, 2**63 - 1, -(2**63)])
    elif kind == 3:
        value.double_value = rng.choice(
            [0.0, -0.0, 1.0, 0.1, 1e300, -2.5e-310, float("inf"), float("-inf"), float("nan")]
        )
    elif kind == 4:
        value.bytes_value = rng.choice([b"", b"\x00\xff", bytes(range(20))])
    elif kind == 5:
        value.string_value_strindex = rng.choice([0, 3])
    elif kind == 6:
        pass  # no value at all
    elif kind in (7, 8):
        value.array_value.SetInParent()
        for _ in range(rng.randrange(3)):
            value.array_value.values.append(_value(rng, depth + 1))
    else:
        value.kvlist_value.SetInParent()
        for _ in range(rng.randrange(3)):
            value.kvlist_value.values.append(_key_value(rng, depth + 1))
    return value


def _key_value(rng: random.Random, depth: int = 0) -> KeyValue:
    kv = KeyValue(key=rng.choice(["", "k", "mlflow.spanInputs", "ключ"]))
    if rng.random() < 0.9:
        kv.value.CopyFrom(_value(rng, depth))
    if rng.random() < 0.1:
        kv.key_strindex = 5
    return kv


def _span(rng: random.Random) -> Span:
    def maybe(value: object, empty: object) -> object:
        return value if rng.random() < 0.7 else empty

    span = Span(
        trace_id=maybe(rng.randbytes(16), b""),
        span_id=maybe(rng.randbytes(8), b""),
        trace_state=maybe("vendor=1", ""),
        parent_span_id=maybe(rng.randbytes(8), b""),
        flags=maybe(rng.choice([1, 257, 2**32 - 1]), 0),
        name=maybe(rng.choice(["root", "ünï", "x" * 300]), ""),
        kind=rng.choice([0, 1, 2, 3, 4, 5, 9]),
        start_time_unix_nano=maybe(rng.randrange(2**64), 0),
        end_time_unix_nano=maybe(rng.randrange(2**64), 0),
        dropped_attributes_count=maybe(3, 0),
        dropped_events_count=maybe(2, 0),
        dropped_links_count=maybe(1, 0),
    )
    span.attributes.extend(_key_value(rng) for _ in range(rng.randrange(6)))
    for _ in range(rng.randrange(3)):
        event = span.events.add(
            time_unix_nano=maybe(rng.randrange(2**64), 0),
            name=maybe("exception", ""),
            dropped_attributes_count=maybe(4, 0),
        )
        event.attributes.extend(_key_value(rng) for _ in range(rng.randrange(3)))
    for _ in range(rng.randrange(3)):
        link = span.links.add(
            trace_id=maybe(rng.randbytes(16), b""),
            span_id=maybe(rng.randbytes(8), b""),
            trace_state=maybe("a=b", ""),
            dropped_attributes_count=maybe(1, 0),
            flags=maybe(256, 0),
        )
        link.attributes.extend(_key_value(rng) for _ in range(rng.randrange(3)))
    status = rng.randrange(4)
    if status == 1:
        span.status.SetInParent()  # present but empty
    elif status > 1:
        span.status.CopyFrom(Status(code=rng.choice([0, 1, 2, 7]), message=maybe("boom", "")))
    return span


@pytest.mark.parametrize("seed", range(40))
def test_matches_message_to_dict(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        span = _span(rng)
        assert span_json(span) == _reference(span)


def test_an_empty_span() -> None:
    assert span_json(Span()) == _reference(Span()) == "{}"
