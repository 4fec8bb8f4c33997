"""service/http/runs.py in-process: runs, their data and their errors, on the wire."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

API = "/api/2.0/mlflow"


def _run(api: TestClient) -> str:
    name = f"runs-in-process-{uuid.uuid4().hex[:8]}"
    experiment_id = api.post(f"{API}/experiments/create", json={"name": name}).json()[
        "experiment_id"
    ]
    created = api.post(
        f"{API}/runs/create", json={"experiment_id": experiment_id, "start_time": 1000}
    )
    assert created.status_code == 200, created.text
    run = created.json()["run"]
    assert run["info"]["status"] == "RUNNING" and run["info"]["lifecycle_stage"] == "active"
    return str(run["info"]["run_id"])


def test_log_batch_then_get_shows_params_tags_and_latest_metrics(api: TestClient) -> None:
    run_id = _run(api)
    logged = api.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "params": [{"key": "lr", "value": "0.1"}],
            "tags": [{"key": "phase", "value": "train"}],
            "metrics": [
                {"key": "loss", "value": 0.5, "timestamp": 1, "step": 0},
                {"key": "loss", "value": "NaN", "timestamp": 2, "step": 1},
            ],
        },
    )
    assert logged.status_code == 200 and logged.json() == {}
    data = api.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert data["params"] == [{"key": "lr", "value": "0.1"}]
    assert {"key": "phase", "value": "train"} in data["tags"]
    (latest,) = data["metrics"]
    assert latest["key"] == "loss" and latest["value"] == "NaN" and latest["step"] == 1


def test_changing_a_param_is_invalid_parameter_value(api: TestClient) -> None:
    run_id = _run(api)
    param = {"run_id": run_id, "key": "lr", "value": "0.1"}
    assert api.post(f"{API}/runs/log-parameter", json=param).status_code == 200
    changed = api.post(f"{API}/runs/log-parameter", json={**param, "value": "0.2"})
    assert changed.status_code == 400
    assert changed.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_update_ends_the_run_and_delete_makes_it_read_only(api: TestClient) -> None:
    run_id = _run(api)
    updated = api.post(
        f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED", "end_time": 2000}
    )
    assert updated.json()["run_info"]["status"] == "FINISHED"
    assert api.post(f"{API}/runs/delete", json={"run_id": run_id}).status_code == 200
    refused = api.post(
        f"{API}/runs/log-metric",
        json={"run_id": run_id, "key": "m", "value": 1, "timestamp": 1, "step": 0},
    )
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_a_missing_run_is_resource_does_not_exist(api: TestClient) -> None:
    missing = api.get(f"{API}/runs/get", params={"run_id": "0" * 32})
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_search_filters_and_orders(api: TestClient) -> None:
    run_id = _run(api)
    experiment_id = api.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["info"][
        "experiment_id"
    ]
    api.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "k", "value": "v"})
    found = api.post(
        f"{API}/runs/search",
        json={"experiment_ids": [experiment_id], "filter": "params.k = 'v'"},
    ).json()
    assert [r["info"]["run_id"] for r in found["runs"]] == [run_id]
    bad = api.post(
        f"{API}/runs/search", json={"experiment_ids": [experiment_id], "filter": "params.k =="}
    )
    assert bad.status_code == 400
    assert bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
