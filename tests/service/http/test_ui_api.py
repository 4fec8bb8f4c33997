"""service/http/ui_api.py in-process: the UI's own JSON endpoints under /ajax-api/2.0/stratus."""

from __future__ import annotations

import base64
import uuid

from starlette.testclient import TestClient

from tests.support.in_process import assert_error, new_experiment

API = "/api/2.0/mlflow"
UI = "/ajax-api/2.0/stratus"


def _run(api: TestClient, experiment_id: str) -> str:
    run_id = api.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json()["run"][
        "info"
    ]["run_id"]
    batch = {
        "run_id": run_id,
        "metrics": [
            {"key": "loss", "value": 1.0 / (step + 1), "timestamp": 1000 + step, "step": step}
            for step in range(3)
        ],
        "params": [{"key": "lr", "value": "0.1"}],
        "tags": [{"key": "team", "value": "vision"}, {"key": "mlflow.runName", "value": "r"}],
    }
    assert api.post(f"{API}/runs/log-batch", json=batch).status_code == 200
    return str(run_id)


def test_sampled_history_shape_and_limits(api: TestClient) -> None:
    experiment_id = new_experiment(api)
    run_id, other = _run(api, experiment_id), _run(api, experiment_id)
    url = f"{UI}/metrics/history-sampled"
    got = api.get(url, params=[("run_id", run_id), ("run_id", other), ("metric_key", "loss")])
    first, second = got.json()["series"]
    assert first == {
        "run_id": run_id,
        "metric_key": "loss",
        "x": [0, 1, 2],
        "y": [1.0, 0.5, 1.0 / 3],
        "point_count": 3,
        "downsampled": False,
    }
    assert second["run_id"] == other and second["point_count"] == 3
    assert_error(api.get(url, params={"metric_key": "loss"}), 400, "INVALID_PARAMETER_VALUE")
    few = {"run_id": run_id, "metric_key": "loss", "max_points": 9}
    assert_error(api.get(url, params=few), 400, "INVALID_PARAMETER_VALUE")
    wrong_axis = {"run_id": run_id, "metric_key": "loss", "x_axis": "epoch"}
    assert_error(api.get(url, params=wrong_axis), 400, "INVALID_PARAMETER_VALUE")


def test_runs_by_id_report_the_missing(api: TestClient) -> None:
    run_id = _run(api, new_experiment(api))
    absent = uuid.uuid4().hex
    got = api.post(f"{UI}/runs/get", json={"run_ids": [run_id, absent, run_id]}).json()
    assert [r["info"]["run_id"] for r in got["runs"]] == [run_id]
    assert got["missing"] == [absent]
    assert got["runs"][0]["data"]["params"] == [{"key": "lr", "value": "0.1"}]
    assert "missing" not in api.post(f"{UI}/runs/get", json={"run_ids": [run_id]}).json()
    assert_error(api.post(f"{UI}/runs/get", json={"run_ids": []}), 400, "INVALID_PARAMETER_VALUE")


def test_run_keys_are_sorted_without_system_tags_and_truncate(api: TestClient) -> None:
    experiment_id = new_experiment(api)
    _run(api, experiment_id)
    url = f"{UI}/experiments/run-keys"
    keys = api.get(url, params={"experiment_id": experiment_id}).json()
    assert keys == {
        "metrics": ["loss"],
        "params": ["lr"],
        "tags": ["team"],
        "truncated": False,
    }
    only = api.get(url, params={"experiment_id": experiment_id, "contains": "LO"}).json()
    assert only == {"metrics": ["loss"], "truncated": False}
    assert_error(
        api.get(url, params={"experiment_id": "987654321"}), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    zero = {"experiment_id": experiment_id, "max_results": 0}
    assert_error(api.get(url, params=zero), 400, "INVALID_PARAMETER_VALUE")


def test_with_auth_off_everyone_is_manager_and_nobody_signs_in(api: TestClient) -> None:
    assert api.get(f"{UI}/session").json() == {"auth_enabled": False}
    got = api.get(f"{UI}/permission", params={"experiment_id": new_experiment(api)})
    assert got.json() == {"permission": "MANAGE"}
    assert_error(api.get(f"{UI}/permission"), 400, "INVALID_PARAMETER_VALUE")
    both = {"experiment_id": "1", "model_name": "m"}
    assert_error(api.get(f"{UI}/permission", params=both), 400, "INVALID_PARAMETER_VALUE")


def test_with_auth_on_session_and_permission_speak_of_the_caller(
    auth_api: TestClient, admin_headers: dict[str, str]
) -> None:
    assert auth_api.get(f"{UI}/session").json() == {"auth_enabled": True}
    wrong = {"Authorization": "Bearer stratus_pat_unknown"}
    assert auth_api.get(f"{UI}/session", headers=wrong).json() == {"auth_enabled": True}
    admin = auth_api.get(f"{UI}/session", headers=admin_headers).json()
    assert admin["user"] == {"username": "admin@example.com", "is_admin": True, "via": "token"}
    experiment_id = new_experiment(auth_api, admin_headers)
    username = f"ui-member-{uuid.uuid4().hex[:8]}@example.com"
    auth_api.post(
        f"{API}/users/create",
        json={"username": username, "password": "correct horse battery"},
        headers=admin_headers,
    )
    basic = base64.b64encode(f"{username}:correct horse battery".encode()).decode()
    member = {"Authorization": f"Basic {basic}"}
    query = {"experiment_id": experiment_id}
    assert auth_api.get(f"{UI}/permission", params=query, headers=member).json() == {
        "permission": "READ"
    }
    assert auth_api.get(f"{UI}/permission", params=query, headers=admin_headers).json() == {
        "permission": "MANAGE"
    }
