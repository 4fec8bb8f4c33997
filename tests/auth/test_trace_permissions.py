"""Traces follow their experiment's permissions: READ reads, EDIT writes (OTLP included),
MANAGE deletes; searches leave out experiments the caller may not read."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.auth.conftest import ADMIN, MEMBERS, AuthServer

READER, EDITOR, MANAGER, NOBODY = MEMBERS
V3 = "/api/3.0/mlflow/traces"


def _otlp(experiment_id: str) -> tuple[bytes, dict[str, str], str]:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = uuid.uuid4().bytes
    span.span_id = uuid.uuid4().bytes[:8]
    span.name = "root"
    span.start_time_unix_nano = 1_700_000_000_000_000_000
    span.end_time_unix_nano = 1_700_000_001_000_000_000
    headers = {"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id}
    return request.SerializeToString(), headers, "tr-" + span.trace_id.hex()


@pytest.fixture
def clients() -> Iterator[contextlib.ExitStack]:
    """Closes the test's HTTP clients (an open one is a ResourceWarning, an error here)."""
    with contextlib.ExitStack() as stack:
        yield stack


def test_trace_permissions(
    auth_server: AuthServer, unique: str, clients: contextlib.ExitStack
) -> None:
    def client(email: str) -> httpx.Client:
        return clients.enter_context(
            httpx.Client(base_url=auth_server.url, headers=auth_server.headers(email))
        )

    admin = client(ADMIN)
    experiment_id = admin.post(
        "/api/2.0/mlflow/experiments/create", json={"name": f"traces-perm-{unique}"}
    ).json()["experiment_id"]
    for user, level in [
        (READER, "READ"),
        (EDITOR, "EDIT"),
        (MANAGER, "MANAGE"),
        (NOBODY, "NO_PERMISSIONS"),
    ]:
        granted = admin.post(
            "/api/2.0/mlflow/experiments/permissions/create",
            json={"experiment_id": experiment_id, "username": user, "permission": level},
        )
        assert granted.status_code == 200, granted.text
    body, headers, trace_id = _otlp(experiment_id)
    assert admin.post("/v1/traces", content=body, headers=headers).status_code == 200

    def status(email: str, method: str, path: str, **kwargs: object) -> int:
        return client(email).request(method, path, **kwargs).status_code

    tag = {"key": "k", "value": "v"}
    feedback = {"assessment": {"assessment_name": "ok", "feedback": {"value": True}}}
    for email, can_read, can_edit, can_manage in [
        (READER, True, False, False),
        (EDITOR, True, True, False),
        (MANAGER, True, True, True),
        (NOBODY, False, False, False),
    ]:
        read, edit = (200 if can_read else 403), (200 if can_edit else 403)
        assert status(email, "GET", f"{V3}/get", params={"trace_id": trace_id}) == read
        assert status(email, "GET", f"{V3}/{trace_id}") == read
        assert status(email, "PATCH", f"{V3}/{trace_id}/tags", json=tag) == edit
        assert status(email, "POST", f"{V3}/{trace_id}/assessments", json=feedback) == edit
        more, more_headers, _ = _otlp(experiment_id)
        assert status(email, "POST", "/v1/traces", content=more, headers=more_headers) == edit
        search = client(email).post(
            f"{V3}/search",
            json={
                "locations": [
                    {
                        "type": "MLFLOW_EXPERIMENT",
                        "mlflow_experiment": {"experiment_id": experiment_id},
                    }
                ]
            },
        )
        assert search.status_code == 200
        assert (trace_id in search.text) is can_read
        delete = {"experiment_id": experiment_id, "max_timestamp_millis": 0}
        assert status(email, "POST", f"{V3}/delete-traces", json=delete) == (
            200 if can_manage else 403
        )
