"""service/http/traces.py in-process: MLflow 3 trace infos, search paging, tags and assessments."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

from tests.support.in_process import assert_error, new_experiment

API = "/api/2.0/mlflow"
TRACES = "/api/3.0/mlflow/traces"


def _location(experiment_id: str) -> dict[str, object]:
    return {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}


def _start(
    api: TestClient, experiment_id: str, request_time: str = "2026-01-02T03:04:05.678Z"
) -> dict[str, object]:
    info = {
        "trace_id": f"tr-{uuid.uuid4().hex}",
        "trace_location": _location(experiment_id),
        "request_time": request_time,
        "execution_duration": "1.5s",
        "state": "OK",
        "trace_metadata": {"mlflow.user": "ada"},
        "tags": {"team": "vision"},
    }
    started = api.post(TRACES, json={"trace": {"trace_info": info}})
    assert started.status_code == 200, started.text
    return dict(started.json()["trace"]["trace_info"])


def test_start_answers_trace_info_v3_in_proto3_json(api: TestClient) -> None:
    experiment_id = new_experiment(api)
    info = _start(api, experiment_id)
    assert info["request_time"] == "2026-01-02T03:04:05.678Z"
    assert info["execution_duration"] == "1.500s"
    assert info["trace_location"] == _location(experiment_id)
    assert info["state"] == "OK" and info["tags"]["team"] == "vision"
    assert info["trace_metadata"]["mlflow.user"] == "ada"
    assert api.get(f"{TRACES}/{info['trace_id']}").json() == {"trace": {"trace_info": info}}
    whole = api.get(f"{TRACES}/get", params={"trace_id": info["trace_id"]}).json()["trace"]
    assert whole["trace_info"] == info and whole["spans"] == []
    assert_error(api.get(f"{TRACES}/tr-{uuid.uuid4().hex}"), 404, "RESOURCE_DOES_NOT_EXIST")
    # A literal path is never taken for a trace id: "get" without its parameter is a 400.
    assert_error(api.get(f"{TRACES}/get"), 400, "INVALID_PARAMETER_VALUE")


def test_search_pages_with_a_token(api: TestClient) -> None:
    experiment_id = new_experiment(api)
    ids = [_start(api, experiment_id, f"2026-01-0{day}T00:00:00Z")["trace_id"] for day in (1, 2, 3)]
    query = {"locations": [_location(experiment_id)], "max_results": 2}
    first = api.post(f"{TRACES}/search", json=query).json()
    assert [t["trace_id"] for t in first["traces"]] == [ids[2], ids[1]]  # newest first
    second = api.post(
        f"{TRACES}/search", json={**query, "page_token": first["next_page_token"]}
    ).json()
    assert [t["trace_id"] for t in second["traces"]] == [ids[0]]
    assert "next_page_token" not in second
    assert_error(
        api.post(f"{TRACES}/search", json={"locations": []}), 400, "INVALID_PARAMETER_VALUE"
    )
    bad_token = {**query, "page_token": "not-a-token"}
    assert_error(api.post(f"{TRACES}/search", json=bad_token), 400, "INVALID_PARAMETER_VALUE")


def test_tags_and_delete_under_both_prefixes(api: TestClient) -> None:
    experiment_id = new_experiment(api)
    trace_id = _start(api, experiment_id)["trace_id"]
    tags = f"{API}/traces/{trace_id}/tags"
    assert api.patch(tags, json={"key": "k", "value": "v"}).json() == {}
    assert api.get(f"{TRACES}/{trace_id}").json()["trace"]["trace_info"]["tags"]["k"] == "v"
    assert api.request("DELETE", f"{TRACES}/{trace_id}/tags", params={"key": "k"}).json() == {}
    assert "k" not in api.get(f"{TRACES}/{trace_id}").json()["trace"]["trace_info"]["tags"]
    deleted = api.post(
        f"{API}/traces/delete-traces",
        json={"experiment_id": experiment_id, "request_ids": [trace_id]},
    )
    assert deleted.json() == {"traces_deleted": 1}
    assert_error(api.get(f"{TRACES}/{trace_id}"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_assessments_are_created_updated_by_mask_and_deleted(api: TestClient) -> None:
    trace_id = _start(api, new_experiment(api))["trace_id"]
    base = f"{TRACES}/{trace_id}/assessments"
    feedback = {
        "assessment_name": "relevance",
        "source": {"source_type": "HUMAN", "source_id": "ada"},
        "feedback": {"value": True},
    }
    created = api.post(base, json={"assessment": feedback})
    assert created.status_code == 200, created.text
    assessment = created.json()["assessment"]
    assert assessment["assessment_name"] == "relevance" and assessment["trace_id"] == trace_id
    assert assessment["feedback"] == {"value": True} and assessment["valid"] is True
    assert assessment["create_time"].endswith("Z")
    one = f"{base}/{assessment['assessment_id']}"
    updated = api.patch(
        one, json={"assessment": {"rationale": "on topic"}, "update_mask": "rationale"}
    ).json()["assessment"]
    assert updated["rationale"] == "on topic" and updated["feedback"] == {"value": True}
    refused = api.patch(one, json={"assessment": {}, "update_mask": "traceId"})
    assert_error(refused, 400, "INVALID_PARAMETER_VALUE")
    both = {**feedback, "expectation": {"value": 1}}
    assert_error(api.post(base, json={"assessment": both}), 400, "INVALID_PARAMETER_VALUE")
    assert api.request("DELETE", one).json() == {}
    assert_error(api.get(one), 404, "RESOURCE_DOES_NOT_EXIST")
