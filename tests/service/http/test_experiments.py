"""service/http/experiments.py in-process: the wire contract of each experiment handler."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

API = "/api/2.0/mlflow/experiments"


def _create(api: TestClient, **fields: object) -> str:
    name = f"in-process-{uuid.uuid4().hex[:8]}"
    response = api.post(f"{API}/create", json={"name": name, **fields})
    assert response.status_code == 200, response.text
    experiment_id = response.json()["experiment_id"]
    assert isinstance(experiment_id, str)  # int64 ids travel as strings
    return experiment_id


def test_create_get_and_get_by_name(api: TestClient) -> None:
    experiment_id = _create(api, tags=[{"key": "team", "value": "vision"}])
    got = api.get(f"{API}/get", params={"experiment_id": experiment_id}).json()["experiment"]
    assert got["experiment_id"] == experiment_id
    assert got["lifecycle_stage"] == "active"
    assert got["tags"] == [{"key": "team", "value": "vision"}]
    assert got["artifact_location"] == f"mlflow-artifacts:/{experiment_id}"
    by_name = api.get(f"{API}/get-by-name", params={"experiment_name": got["name"]})
    assert by_name.json()["experiment"]["experiment_id"] == experiment_id


def test_a_taken_name_is_resource_already_exists(api: TestClient) -> None:
    experiment_id = _create(api)
    name = api.get(f"{API}/get", params={"experiment_id": experiment_id}).json()["experiment"]
    again = api.post(f"{API}/create", json={"name": name["name"]})
    assert again.status_code == 400
    assert again.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"


def test_missing_and_malformed_ids(api: TestClient) -> None:
    missing = api.get(f"{API}/get", params={"experiment_id": "987654321"})
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    no_name = api.post(f"{API}/create", json={})
    assert no_name.status_code == 400
    assert no_name.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_delete_restore_and_search_by_view_type(api: TestClient) -> None:
    experiment_id = _create(api)
    assert api.post(f"{API}/delete", json={"experiment_id": experiment_id}).json() == {}

    def ids(view: str) -> set[str]:
        found = api.post(f"{API}/search", json={"view_type": view, "max_results": 1000})
        return {e["experiment_id"] for e in found.json().get("experiments", [])}

    assert experiment_id in ids("DELETED_ONLY") and experiment_id not in ids("ACTIVE_ONLY")
    assert api.post(f"{API}/restore", json={"experiment_id": experiment_id}).json() == {}
    assert experiment_id in ids("ACTIVE_ONLY")


def test_search_pages_with_a_token(api: TestClient) -> None:
    for _ in range(3):
        _create(api)
    first = api.post(f"{API}/search", json={"max_results": 2}).json()
    assert len(first["experiments"]) == 2 and first["next_page_token"]
    second = api.post(
        f"{API}/search", json={"max_results": 2, "page_token": first["next_page_token"]}
    ).json()
    seen = {e["experiment_id"] for e in first["experiments"]}
    assert seen.isdisjoint(e["experiment_id"] for e in second["experiments"])
