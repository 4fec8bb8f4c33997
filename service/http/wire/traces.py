"""Proto3-JSON shaping and parsing for traces: TraceInfoV3, Trace, Assessment.

Well-known types on the wire: ``request_time`` is an RFC 3339 timestamp
(``"2026-12-02T18:42:17.354Z"``), ``execution_duration`` a duration (``"0.025s"``); maps
(tags, metadata) are JSON objects. Spans are served exactly as they were ingested: the
OTLP span in proto3 JSON.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from service.errors import InvalidParameterValue
from service.store.entities.traces import Assessment, SpanRecord, TraceInfo

_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$"
)
_DURATION = re.compile(r"^(-)?(\d+)(?:\.(\d{1,9}))?s$")


def parse_timestamp_ms(value: str, field: str) -> int:
    """An RFC 3339 timestamp -> epoch milliseconds."""
    match = _TIMESTAMP.match(value.strip())
    if not match:
        raise InvalidParameterValue(f"Invalid value {value!r} for '{field}': not a timestamp")
    base, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        raise InvalidParameterValue(f"Invalid value {value!r} for '{field}'") from None
    millis = int((fraction or "0").ljust(9, "0")[:3])
    return int(moment.timestamp()) * 1000 + millis


def parse_duration_ms(value: str, field: str) -> int:
    """A proto3 JSON duration (``"1.5s"``) -> milliseconds."""
    match = _DURATION.match(value.strip())
    if not match:
        raise InvalidParameterValue(f"Invalid value {value!r} for '{field}': not a duration")
    sign, seconds, fraction = match.groups()
    millis = int(seconds) * 1000 + int((fraction or "0").ljust(9, "0")[:3])
    return -millis if sign else millis


def timestamp(ms: int) -> str:
    return f"{_second(ms // 1000)}.{ms % 1000:03d}Z"


@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    """An epoch second in RFC 3339, cached: a page of traces shares few seconds."""
    return f"{datetime.fromtimestamp(seconds, tz=UTC):%Y-%m-%dT%H:%M:%S}"


def duration(ms: int) -> str:
    sign, ms = ("-", -ms) if ms < 0 else ("", ms)
    return f"{sign}{ms // 1000}.{ms % 1000:03d}s"


def trace_info(info: TraceInfo) -> dict[str, Any]:
    message: dict[str, Any] = {
        "trace_id": info.trace_id,
        "trace_location": {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": str(info.experiment_id)},
        },
        "request_time": timestamp(info.request_time),
        "state": info.state,
    }
    if info.client_request_id:
        message["client_request_id"] = info.client_request_id
    if info.request_preview:
        message["request_preview"] = info.request_preview
    if info.response_preview:
        message["response_preview"] = info.response_preview
    if info.execution_duration is not None:
        message["execution_duration"] = duration(info.execution_duration)
    if info.metadata:
        message["trace_metadata"] = info.metadata
    if info.tags:
        message["tags"] = info.tags
    if info.assessments:
        message["assessments"] = [assessment(a) for a in info.assessments]
    return message


def trace(info: TraceInfo, spans: Sequence[SpanRecord], contents: Sequence[str]) -> dict[str, Any]:
    """A Trace message; ``contents`` are the spans' proto3 JSON, in the order of ``spans``.

    The stored JSON goes into the answer as it is (an ``orjson.Fragment``), not parsed and
    serialized again: most of a 1,000-span trace's cost was that round trip.
    """
    return {
        "trace_info": trace_info(info),
        "spans": [orjson.Fragment(content) for content in contents],
    }


def assessment(item: Assessment) -> dict[str, Any]:
    message: dict[str, Any] = {
        **item.body,
        "assessment_id": item.assessment_id,
        "assessment_name": item.name,
        "trace_id": item.trace_id,
        "create_time": timestamp(item.create_time),
        "last_update_time": timestamp(item.last_update_time),
        "valid": item.valid,
    }
    if item.overrides:
        message["overrides"] = item.overrides
    return message
