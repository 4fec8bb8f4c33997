"""``POST /v1/traces``: OTLP/HTTP span export, from the mlflow client and plain OpenTelemetry.

The body is an ``ExportTraceServiceRequest``, as protobuf (``application/x-protobuf``) or as
OTLP's JSON (``application/json``, whose trace and span ids are hex), optionally gzip- or
deflate-encoded; the experiment comes from the ``x-mlflow-experiment-id`` header
and an optional ``x-mlflow-run-id`` links the finished traces to a run. Each span is stored
as its proto3 JSON, with name, type and status copied out for search. The answer is an
empty ``ExportTraceServiceResponse``; failures are MLflow JSON errors.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.artifacts import ArtifactStore
from service.errors import InvalidParameterValue, RequestTooLarge
from service.http.context import blocking, store
from service.http.messages.traces import EXPERIMENT_HEADER
from service.http.parsing import read_body
from service.http.wire.spans import span_json
from service.store.entities.traces import RootSummary, SpanRecord
from service.store.experiments import parse_experiment_id
from service.store.traces import TraceStore
from service.trace_payloads import offload_large

RUN_HEADER = "x-mlflow-run-id"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"

SPAN_TYPE_ATTRIBUTE = "mlflow.spanType"
INPUTS_ATTRIBUTE = "mlflow.spanInputs"
OUTPUTS_ATTRIBUTE = "mlflow.spanOutputs"
#: MLflow's preview length for open-source servers.
PREVIEW_LENGTH = 1000
_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}


async def export_traces(request: Request) -> Response:
    # The body is read before any check, so an error answer leaves the connection usable.
    limit = request.app.state.settings.max_request_body_bytes
    raw = await read_body(request, limit)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (PROTOBUF, JSON):
        raise InvalidParameterValue(
            f"Invalid Content-Type: {media_type or 'none'}. Expected: {PROTOBUF} or {JSON}"
        )
    experiment_id = parse_experiment_id(request.headers.get(EXPERIMENT_HEADER))
    body = _decompress(raw, request.headers.get("content-encoding", ""), limit)
    message = _from_json(body) if media_type == JSON else _from_protobuf(body)
    records, roots = _parse(message)
    await blocking(
        _store,
        request.app.state.artifacts,
        store(request).traces,
        experiment_id,
        records,
        roots,
        request.app.state.settings.trace_span_inline_bytes,
    )
    run_id = request.headers.get(RUN_HEADER)
    if run_id and roots:
        await blocking(store(request).traces.link_to_run, list(roots), run_id)
    return Response(b"", media_type=PROTOBUF)


def _store(
    artifacts: ArtifactStore,
    traces: TraceStore,
    experiment_id: int,
    records: list[SpanRecord],
    roots: dict[str, RootSummary],
    inline_limit: int,
) -> None:
    """Large span contents to the artifact store, then the spans to the database (one
    trip to the thread pool for both)."""
    records = offload_large(artifacts, experiment_id, records, inline_limit)
    traces.log_spans(experiment_id, records, roots)


def _decompress(body: bytes, encoding: str, limit: int) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise InvalidParameterValue(f"Unsupported Content-Encoding: {encoding}")
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        data = inflater.decompress(body, limit + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise InvalidParameterValue(f"Invalid {encoding} request body: {exc}") from None
    if len(data) > limit:
        raise RequestTooLarge(f"Decompressed request body exceeds the limit of {limit} bytes")
    return data


def _from_protobuf(body: bytes) -> Any:
    # protobuf and the OTLP classes load on the first export, not at server start.
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    message = ExportTraceServiceRequest()
    try:
        message.ParseFromString(body)
    except DecodeError:
        raise InvalidParameterValue("Invalid OpenTelemetry protobuf request body") from None
    return message


def _from_json(body: bytes) -> Any:
    """OTLP/HTTP's JSON encoding: proto3 JSON, except that trace and span ids are hex."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidParameterValue("Invalid OpenTelemetry JSON request body") from None
    if not isinstance(document, dict):
        raise InvalidParameterValue("An OpenTelemetry JSON request body is an object")
    for span in _json_spans(document):
        for holder in [span, *_items(span, "links")]:
            for key in _ID_KEYS:
                if isinstance(holder.get(key), str):
                    holder[key] = _hex_to_base64(holder[key])
    message = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise InvalidParameterValue(f"Invalid OpenTelemetry JSON request body: {exc}") from None
    return message


#: The id fields of a span (and of a span's link), by both names proto3 JSON accepts.
_ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


def _items(node: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The objects in ``node``'s list ``name`` (camelCase or snake_case); anything else is
    left for the proto3 parser to refuse."""
    camel = name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:])
    found = node.get(camel, node.get(name))
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def _json_spans(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        span
        for resource_spans in _items(document, "resource_spans")
        for scope_spans in _items(resource_spans, "scope_spans")
        for span in _items(scope_spans, "spans")
    ]


def _hex_to_base64(value: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(value)).decode()
    except ValueError:
        raise InvalidParameterValue(f"Invalid trace or span id {value[:64]!r}: not hex") from None


def _parse(message: Any) -> tuple[list[SpanRecord], dict[str, RootSummary]]:
    """The spans of an export request, and a summary of each root span by trace id."""
    records: list[SpanRecord] = []
    roots: dict[str, RootSummary] = {}
    for resource_spans in message.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if len(span.trace_id) != 16 or len(span.span_id) != 8:
                    raise InvalidParameterValue(
                        "Every span needs a 16-byte trace_id and an 8-byte span_id."
                    )
                attributes = {a.key: _decode(a.value) for a in span.attributes}
                trace_id = "tr-" + span.trace_id.hex()
                status = _STATUS.get(span.status.code, "UNSET")
                content = span_json(span)
                records.append(
                    SpanRecord(
                        trace_id=trace_id,
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex() or None,
                        name=span.name,
                        span_type=_text(attributes.get(SPAN_TYPE_ATTRIBUTE)) or "",
                        status=status,
                        start_time_ns=span.start_time_unix_nano,
                        end_time_ns=span.end_time_unix_nano or None,
                        content=content,
                        attributes=tuple(
                            (key, _searchable(value))
                            for key, value in attributes.items()
                            if key not in (INPUTS_ATTRIBUTE, OUTPUTS_ATTRIBUTE)
                        ),
                    )
                )
                if not span.parent_span_id:
                    roots[trace_id] = _root(span, status, attributes)
    return records, roots


def _root(span: Any, status: str, attributes: dict[str, Any]) -> RootSummary:
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    return RootSummary(
        request_time=start // 1_000_000,
        execution_duration=(end - start) // 1_000_000 if end else None,
        state="ERROR" if status == "ERROR" else "OK",
        request_preview=_preview(attributes.get(INPUTS_ATTRIBUTE)),
        response_preview=_preview(attributes.get(OUTPUTS_ATTRIBUTE)),
        name=span.name,
    )


def _decode(value: Any) -> Any:
    """An OTLP ``AnyValue`` as a plain Python value."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_decode(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _decode(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind) if kind else None


def _text(value: Any) -> str | None:
    """A string attribute; MLflow's own are JSON-encoded strings (``'"LLM"'``)."""
    if not isinstance(value, str):
        return None if value is None else str(value)
    if value.startswith('"'):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return decoded if isinstance(decoded, str) else value
    return value


def _searchable(value: Any) -> str:
    """An attribute as search compares it: strings as text, anything else as JSON."""
    text = _text(value) if isinstance(value, str) else None
    return text if text is not None else json.dumps(value, ensure_ascii=False)


def _preview(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text[:PREVIEW_LENGTH]


routes = [Route("/v1/traces", export_traces, methods=["POST"])]
