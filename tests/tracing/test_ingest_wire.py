"""Both ways spans arrive (OTLP and the artifact upload), plain OpenTelemetry, and the
errors bad input gets: MLflow JSON, never a 500."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import mlflow
import pytest
from mlflow.store.tracking.rest_store import RestStore
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from tests.support.server import ServerProcess
from tests.tracing.conftest import flush

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def test_version_selects_the_otlp_path(http: httpx.Client) -> None:
    assert http.get("/version").text == "3.4.0"


def test_plain_opentelemetry_exporter(experiment: str, tracking_uri: str) -> None:
    provider = TracerProvider()
    exporter = OTLPSpanExporter(
        endpoint=f"{tracking_uri}/v1/traces", headers={"x-mlflow-experiment-id": experiment}
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("plain-app")
    with tracer.start_as_current_span("handle-request") as root:
        root.set_attribute("http.route", "/chat")
        root.set_attribute("retries", 3)
        with tracer.start_as_current_span("call-db") as child:
            child.set_attribute("rows", [1, 2])
            child.add_event("query", {"sql": "SELECT 1"})
            child.set_status(Status(StatusCode.ERROR, "timeout"))
    provider.shutdown()
    trace_id = f"tr-{root.get_span_context().trace_id:032x}"
    got = mlflow.get_trace(trace_id)
    assert got is not None
    assert got.info.experiment_id == experiment
    assert got.info.state.value == "OK"
    assert got.info.tags["mlflow.traceName"] == "handle-request"
    spans = {s.name: s for s in got.data.spans}
    assert spans["handle-request"].attributes["http.route"] == "/chat"
    assert spans["handle-request"].attributes["retries"] == 3
    db = spans["call-db"]
    assert db.parent_id == spans["handle-request"].span_id
    assert db.attributes["rows"] == [1, 2]
    assert db.events[0].name == "query" and db.events[0].attributes == {"sql": "SELECT 1"}
    assert db.status.status_code.value == "ERROR"
    found = mlflow.search_traces(
        locations=[experiment], filter_string="span.name = 'call-db'", return_type="list"
    )
    assert [t.info.trace_id for t in found] == [trace_id]


def test_artifact_upload_path_when_otlp_fails(
    experiment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """StartTraceV3 without spans: the client uploads traces.json and reads it back."""

    def unavailable(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("OTLP endpoint unreachable")

    monkeypatch.setattr(RestStore, "log_spans", unavailable)

    @mlflow.trace(name="offline")
    def offline(x: int) -> int:
        with mlflow.start_span("inner") as span:
            span.set_attribute("x", x)
        return x + 1

    offline(41)
    trace_id = mlflow.get_last_active_trace_id()
    flush()
    got = mlflow.get_trace(trace_id)
    assert "mlflow.trace.spansLocation" not in got.info.tags
    assert got.info.tags["mlflow.artifactLocation"].startswith(f"mlflow-artifacts:/{experiment}/")
    spans = {s.name: s for s in got.data.spans}
    assert spans["offline"].outputs == 42 and spans["inner"].attributes["x"] == 41


def test_large_span_content_goes_to_the_artifact_store(
    experiment: str, server: ServerProcess
) -> None:
    big = "x" * (600 * 1024)

    @mlflow.trace
    def echo(text: str) -> int:
        return len(text)

    echo(big)
    trace_id = mlflow.get_last_active_trace_id()
    flush()
    (span,) = mlflow.get_trace(trace_id).data.spans
    assert span.inputs == {"text": big} and span.outputs == len(big)
    stored = Path(server.artifact_root, experiment, "traces", trace_id, "spans")
    assert [p.name for p in stored.iterdir()] == [f"{span.span_id}.json"]


def _otlp_body() -> bytes:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = uuid.uuid4().bytes
    span.span_id = b"\x01" * 8
    span.name = "s"
    span.start_time_unix_nano = 1_700_000_000_000_000_000
    span.end_time_unix_nano = 1_700_000_000_500_000_000
    return request.SerializeToString()


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code


def test_otlp_bad_input(http: httpx.Client, experiment: str, unique: str) -> None:
    header = {"x-mlflow-experiment-id": experiment}
    ok = http.post("/v1/traces", content=_otlp_body(), headers={**PROTOBUF, **header})
    assert ok.status_code == 200
    bad = http.post("/v1/traces", content=b"\xff\x00garbage", headers={**PROTOBUF, **header})
    _error(bad, 400, "INVALID_PARAMETER_VALUE")
    _error(
        http.post("/v1/traces", content=_otlp_body(), headers=PROTOBUF),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    wrong_type = {"Content-Type": "text/plain", **header}
    _error(
        http.post("/v1/traces", content=b"x", headers=wrong_type), 400, "INVALID_PARAMETER_VALUE"
    )
    unknown = {**PROTOBUF, "x-mlflow-experiment-id": "987654321"}
    _error(
        http.post("/v1/traces", content=_otlp_body(), headers=unknown),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    deleted = mlflow.create_experiment(f"gone-{unique}")
    mlflow.delete_experiment(deleted)
    gone = {**PROTOBUF, "x-mlflow-experiment-id": deleted}
    _error(
        http.post("/v1/traces", content=_otlp_body(), headers=gone), 400, "INVALID_PARAMETER_VALUE"
    )


def test_rest_bad_input(http: httpx.Client, experiment: str) -> None:
    api = "/api/3.0/mlflow/traces"
    _error(http.post(api, content=b"{not json"), 400, "INVALID_PARAMETER_VALUE")
    info = {
        "trace_id": "tr-" + uuid.uuid4().hex,
        "trace_location": {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": experiment},
        },
        "request_time": "yesterday",
        "state": "OK",
    }
    _error(http.post(api, json={"trace": {"trace_info": info}}), 400, "INVALID_PARAMETER_VALUE")
    info["request_time"] = "2026-12-02T18:42:17.354Z"
    info["trace_location"]["mlflow_experiment"]["experiment_id"] = "987654321"
    _error(http.post(api, json={"trace": {"trace_info": info}}), 404, "RESOURCE_DOES_NOT_EXIST")
    missing = "tr-" + uuid.uuid4().hex
    _error(http.get(f"{api}/get", params={"trace_id": missing}), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(http.get(f"{api}/{missing}"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert http.get(f"{api}/batchGet", params={"trace_ids": missing}).json() == {}
    _error(
        http.patch(f"/api/2.0/mlflow/traces/{missing}/tags", json={"key": "k", "value": "v"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _error(
        http.post(f"{api}/search", json={"locations": [], "filter": "x"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_spans_location_waits_for_every_span(http: httpx.Client, experiment: str) -> None:
    """Until all the spans the trace info counts have come by OTLP, the server does not
    claim them, so the client also uploads traces.json and nothing is lost."""
    otel_id = uuid.uuid4().bytes
    trace_id = "tr-" + otel_id.hex()
    header = {**PROTOBUF, "x-mlflow-experiment-id": experiment}

    def send(span_id: bytes, parent: bytes = b"") -> None:
        request = ExportTraceServiceRequest()
        span = request.resource_spans.add().scope_spans.add().spans.add()
        span.trace_id, span.span_id, span.parent_span_id = otel_id, span_id, parent
        span.name = "child" if parent else "root"
        span.start_time_unix_nano = 1_700_000_000_000_000_000
        span.end_time_unix_nano = 1_700_000_000_100_000_000
        sent = http.post("/v1/traces", content=request.SerializeToString(), headers=header)
        assert sent.status_code == 200, sent.text

    def start() -> dict[str, str]:
        info = {
            "trace_id": trace_id,
            "trace_location": {
                "type": "MLFLOW_EXPERIMENT",
                "mlflow_experiment": {"experiment_id": experiment},
            },
            "request_time": "2023-11-14T22:13:20.000Z",
            "execution_duration": "0.100s",
            "state": "OK",
            "trace_metadata": {"mlflow.trace.sizeStats": '{"num_spans": 2}'},
        }
        answer = http.post("/api/3.0/mlflow/traces", json={"trace": {"trace_info": info}})
        assert answer.status_code == 200, answer.text
        return answer.json()["trace"]["trace_info"]["tags"]

    send(b"\x02" * 8, parent=b"\x01" * 8)
    assert "mlflow.trace.spansLocation" not in start()
    send(b"\x01" * 8)
    tags = http.get(f"/api/3.0/mlflow/traces/{trace_id}").json()["trace"]["trace_info"]["tags"]
    assert tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert start()["mlflow.trace.spansLocation"] == "TRACKING_STORE"
