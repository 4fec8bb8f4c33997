"""service/http/otlp.py in-process: OTLP/HTTP span export, protobuf and JSON, and its errors."""

from __future__ import annotations

import base64
import gzip
import json
import uuid

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from starlette.testclient import TestClient

from tests.support.in_process import assert_error, new_experiment

API = "/api/2.0/mlflow"
TRACES = "/api/3.0/mlflow/traces"
PROTOBUF = "application/x-protobuf"
START_NS = 1_700_000_000_000_000_000


def _export(trace_id: bytes, span_id: bytes = b"\x01" * 8) -> bytes:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = trace_id, span_id, "root"
    span.start_time_unix_nano = START_NS
    span.end_time_unix_nano = START_NS + 500_000_000
    attribute = span.attributes.add()
    attribute.key, attribute.value.string_value = "mlflow.spanInputs", '{"q": "hi"}'
    return request.SerializeToString()


def _post(api: TestClient, experiment_id: str, body: bytes, **headers: str) -> httpx.Response:
    sent = {"Content-Type": PROTOBUF, "x-mlflow-experiment-id": experiment_id, **headers}
    return api.post("/v1/traces", content=body, headers=sent)


def test_a_protobuf_export_answers_an_empty_response_and_makes_a_trace(api: TestClient) -> None:
    experiment_id = new_experiment(api)
    otel_id = uuid.uuid4().bytes
    sent = _post(api, experiment_id, _export(otel_id))
    assert sent.status_code == 200 and sent.content == b""
    assert sent.headers["content-type"] == PROTOBUF
    info = api.get(f"{TRACES}/tr-{otel_id.hex()}").json()["trace"]["trace_info"]
    assert info["trace_location"]["mlflow_experiment"]["experiment_id"] == experiment_id
    assert info["request_time"] == "2023-11-14T22:13:20.000Z"
    assert info["execution_duration"] == "0.500s"
    assert info["state"] == "OK" and info["request_preview"] == '{"q": "hi"}'


def test_compressed_bodies_are_inflated_and_unknown_encodings_refused(api: TestClient) -> None:
    experiment_id = new_experiment(api)
    otel_id = uuid.uuid4().bytes
    packed = gzip.compress(_export(otel_id))
    assert _post(api, experiment_id, packed, **{"Content-Encoding": "gzip"}).status_code == 200
    assert api.get(f"{TRACES}/tr-{otel_id.hex()}").status_code == 200
    brotli = _post(api, experiment_id, packed, **{"Content-Encoding": "br"})
    assert_error(brotli, 400, "INVALID_PARAMETER_VALUE")
    corrupt = _post(api, experiment_id, b"not gzip", **{"Content-Encoding": "gzip"})
    assert_error(corrupt, 400, "INVALID_PARAMETER_VALUE")


def test_a_json_export_with_hex_ids_is_accepted(api: TestClient) -> None:
    """OTLP/HTTP's JSON encoding (as mlflow's server takes it): ids are hex, not base64."""
    experiment_id = new_experiment(api)
    trace_hex, root_hex, child_hex = uuid.uuid4().hex, "0102030405060708", "1112131415161718"

    def span(span_id: str, name: str, parent: str = "") -> dict[str, object]:
        return {
            "traceId": trace_hex,
            "spanId": span_id,
            "parentSpanId": parent,
            "name": name,
            "kind": 1,
            "startTimeUnixNano": str(START_NS),
            "endTimeUnixNano": str(START_NS + 250_000_000),
            "attributes": [{"key": "retries", "value": {"intValue": "3"}}],
            "status": {"code": 2, "message": "timeout"} if parent else {},
        }

    body = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {"spans": [span(root_hex, "root"), span(child_hex, "child", root_hex)]}
                ]
            }
        ]
    }
    sent = api.post(
        "/v1/traces",
        content=json.dumps(body),
        headers={"Content-Type": "application/json", "x-mlflow-experiment-id": experiment_id},
    )
    assert sent.status_code == 200, sent.text
    trace = api.get(f"{TRACES}/get", params={"trace_id": f"tr-{trace_hex}"}).json()["trace"]
    assert trace["trace_info"]["execution_duration"] == "0.250s"
    spans = {s["name"]: s for s in trace["spans"]}
    root_b64 = base64.b64encode(bytes.fromhex(root_hex)).decode()
    assert spans["root"]["span_id"] == root_b64
    assert spans["child"]["parent_span_id"] == root_b64
    assert spans["child"]["status"]["code"] == "STATUS_CODE_ERROR"
    assert spans["root"]["attributes"] == [{"key": "retries", "value": {"int_value": "3"}}]
    bad_id = json.dumps(body).replace(root_hex, "not-hex!")
    refused = api.post(
        "/v1/traces",
        content=bad_id,
        headers={"Content-Type": "application/json", "x-mlflow-experiment-id": experiment_id},
    )
    assert_error(refused, 400, "INVALID_PARAMETER_VALUE")


def test_bad_exports_are_mlflow_errors(api: TestClient) -> None:
    experiment_id = new_experiment(api)
    body = _export(uuid.uuid4().bytes)
    assert_error(_post(api, experiment_id, b"\xff\x00garbage"), 400, "INVALID_PARAMETER_VALUE")
    assert_error(
        _post(api, experiment_id, body, **{"Content-Type": "text/plain"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    no_header = api.post("/v1/traces", content=body, headers={"Content-Type": PROTOBUF})
    assert_error(no_header, 400, "INVALID_PARAMETER_VALUE")
    assert_error(_post(api, "987654321", body), 404, "RESOURCE_DOES_NOT_EXIST")
    short_id = _export(uuid.uuid4().bytes, span_id=b"\x01" * 4)
    assert_error(_post(api, experiment_id, short_id), 400, "INVALID_PARAMETER_VALUE")


def test_a_run_header_links_the_trace_to_the_run(api: TestClient) -> None:
    experiment_id = new_experiment(api)
    run = api.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json()["run"]
    run_id = run["info"]["run_id"]
    otel_id = uuid.uuid4().bytes
    assert (
        _post(api, experiment_id, _export(otel_id), **{"x-mlflow-run-id": run_id}).status_code
        == 200
    )
    found = api.post(
        f"{TRACES}/search",
        json={
            "locations": [
                {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}
            ],
            "filter": f"run_id = '{run_id}'",
        },
    ).json()
    assert [t["trace_id"] for t in found["traces"]] == [f"tr-{otel_id.hex()}"]
