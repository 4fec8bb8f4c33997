"""service/http/metric_histories.py and the history route in-process: pages and samples."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

API = "/api/2.0/mlflow"


def _run_with_points(api: TestClient, points: int) -> str:
    name = f"history-in-process-{uuid.uuid4().hex[:8]}"
    experiment_id = api.post(f"{API}/experiments/create", json={"name": name}).json()[
        "experiment_id"
    ]
    run_id = str(
        api.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json()["run"]["info"][
            "run_id"
        ]
    )
    metrics = [{"key": "loss", "value": i, "timestamp": i, "step": i} for i in range(points)]
    assert (
        api.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}).json() == {}
    )
    return run_id


def test_history_pages_with_a_token(api: TestClient) -> None:
    run_id = _run_with_points(api, 5)
    params = {"run_id": run_id, "metric_key": "loss", "max_results": 2}
    first = api.get(f"{API}/metrics/get-history", params=params).json()
    assert [p["step"] for p in first["metrics"]] == [0, 1]
    rest = api.get(
        f"{API}/metrics/get-history",
        params={**params, "max_results": 10, "page_token": first["next_page_token"]},
    ).json()
    assert [p["step"] for p in rest["metrics"]] == [2, 3, 4]
    assert "next_page_token" not in rest


def test_bulk_interval_samples_and_keeps_the_ends(api: TestClient) -> None:
    run_id = _run_with_points(api, 5)
    sampled = api.get(
        f"{API}/metrics/get-history-bulk-interval",
        params={"run_ids": run_id, "metric_key": "loss", "max_results": 3},
    ).json()["metrics"]
    assert [p["step"] for p in sampled] == [0, 2, 4]
    assert {p["run_id"] for p in sampled} == {run_id}


def test_bulk_interval_needs_run_ids(api: TestClient) -> None:
    refused = api.get(f"{API}/metrics/get-history-bulk-interval", params={"metric_key": "loss"})
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
