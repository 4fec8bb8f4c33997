"""An OTLP ``Span`` as its proto3 JSON, read straight from the protobuf fields.

Byte for byte what ``json.dumps(MessageToDict(span, preserving_proto_field_name=True),
ensure_ascii=False, separators=(",", ":"))`` gives (fields in number order, defaults left
out, 64-bit integers as strings, bytes as base64, enums by name), at a fraction of its
cost: the descriptor walk of ``json_format`` is most of an export's decoding time.
"""

from __future__ import annotations

import json
import math
from base64 import b64encode
from typing import Any

_KIND = {
    1: "SPAN_KIND_INTERNAL",
    2: "SPAN_KIND_SERVER",
    3: "SPAN_KIND_CLIENT",
    4: "SPAN_KIND_PRODUCER",
    5: "SPAN_KIND_CONSUMER",
}
_CODE = {1: "STATUS_CODE_OK", 2: "STATUS_CODE_ERROR"}
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def span_json(span: Any) -> str:
    """The span's stored JSON."""
    out: dict[str, Any] = {}
    if span.trace_id:
        out["trace_id"] = _b64(span.trace_id)
    if span.span_id:
        out["span_id"] = _b64(span.span_id)
    if span.trace_state:
        out["trace_state"] = span.trace_state
    if span.parent_span_id:
        out["parent_span_id"] = _b64(span.parent_span_id)
    if span.name:
        out["name"] = span.name
    if span.kind:
        out["kind"] = _KIND.get(span.kind, span.kind)
    if span.start_time_unix_nano:
        out["start_time_unix_nano"] = str(span.start_time_unix_nano)
    if span.end_time_unix_nano:
        out["end_time_unix_nano"] = str(span.end_time_unix_nano)
    if span.attributes:
        out["attributes"] = [_key_value(kv) for kv in span.attributes]
    if span.dropped_attributes_count:
        out["dropped_attributes_count"] = span.dropped_attributes_count
    if span.events:
        out["events"] = [_event(event) for event in span.events]
    if span.dropped_events_count:
        out["dropped_events_count"] = span.dropped_events_count
    if span.links:
        out["links"] = [_link(link) for link in span.links]
    if span.dropped_links_count:
        out["dropped_links_count"] = span.dropped_links_count
    if span.HasField("status"):
        out["status"] = _status(span.status)
    if span.flags:
        out["flags"] = span.flags
    return _dumps(out)


def _b64(value: bytes) -> str:
    return b64encode(value).decode()


def _event(event: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if event.time_unix_nano:
        out["time_unix_nano"] = str(event.time_unix_nano)
    if event.name:
        out["name"] = event.name
    if event.attributes:
        out["attributes"] = [_key_value(kv) for kv in event.attributes]
    if event.dropped_attributes_count:
        out["dropped_attributes_count"] = event.dropped_attributes_count
    return out


def _link(link: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if link.trace_id:
        out["trace_id"] = _b64(link.trace_id)
    if link.span_id:
        out["span_id"] = _b64(link.span_id)
    if link.trace_state:
        out["trace_state"] = link.trace_state
    if link.attributes:
        out["attributes"] = [_key_value(kv) for kv in link.attributes]
    if link.dropped_attributes_count:
        out["dropped_attributes_count"] = link.dropped_attributes_count
    if link.flags:
        out["flags"] = link.flags
    return out


def _status(status: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if status.message:
        out["message"] = status.message
    if status.code:
        out["code"] = _CODE.get(status.code, status.code)
    return out


def _key_value(kv: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if kv.key:
        out["key"] = kv.key
    if kv.HasField("value"):
        out["value"] = _any_value(kv.value)
    if kv.key_strindex:
        out["key_strindex"] = kv.key_strindex
    return out


def _any_value(value: Any) -> dict[str, Any]:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return {kind: value.string_value}
    if kind == "int_value":
        return {kind: str(value.int_value)}
    if kind == "double_value":
        return {kind: _double(value.double_value)}
    if kind == "array_value":
        values = value.array_value.values
        return {kind: {"values": [_any_value(v) for v in values]} if values else {}}
    if kind == "kvlist_value":
        kvs = value.kvlist_value.values
        return {kind: {"values": [_key_value(kv) for kv in kvs]} if kvs else {}}
    if kind == "bytes_value":
        return {kind: _b64(value.bytes_value)}
    if kind is None:
        return {}
    return {kind: getattr(value, kind)}


def _double(value: float) -> float | str:
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    return "NaN" if math.isnan(value) else value
