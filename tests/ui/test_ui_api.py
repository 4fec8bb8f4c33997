"""``GET /ajax-api/2.0/stratus/metrics/history-sampled`` on a live server, data logged by
the real mlflow client, on every backend."""

from __future__ import annotations

import math

import pytest
from mlflow.entities import Metric

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

URL = "/ajax-api/2.0/stratus/metrics/history-sampled"


def _history(client, unique: str, n: int) -> str:
    experiment_id = client.create_experiment(f"sampled-{unique}")
    run_id = client.create_run(experiment_id).info.run_id
    metrics = [
        Metric("loss", math.cos(i / 40) + (5 if i == 1234 else 0), 1000 + i, i) for i in range(n)
    ]
    for i in range(0, n, 1000):
        client.log_batch(run_id, metrics=metrics[i : i + 1000])
    return run_id


def test_long_history_is_downsampled_on_the_server(client, http, unique):
    run_id = _history(client, unique, 3000)
    response = http.get(URL, params={"run_id": run_id, "metric_key": "loss", "max_points": 100})
    assert response.status_code == 200
    [series] = response.json()["series"]
    assert series["run_id"] == run_id
    assert series["metric_key"] == "loss"
    assert series["downsampled"] is True
    assert series["point_count"] == 3000
    assert len(series["x"]) == len(series["y"]) <= 100
    assert series["x"][0] == 0 and series["x"][-1] == 2999
    assert max(series["y"]) == max(math.cos(1234 / 40) + 5, 1.0)

    whole = http.get(URL, params={"run_id": run_id, "metric_key": "loss", "max_points": 5000})
    [full] = whole.json()["series"]
    assert full["downsampled"] is False
    assert full["x"] == list(range(3000))

    window = http.get(
        URL,
        params={
            "run_id": run_id,
            "metric_key": "loss",
            "x_min": 100,
            "x_max": 149,
            "x_axis": "step",
        },
    ).json()["series"][0]
    assert window["x"] == list(range(100, 150))

    by_time = http.get(
        URL,
        params={"run_id": run_id, "metric_key": "loss", "x_axis": "timestamp", "max_points": 10},
    ).json()["series"][0]
    assert by_time["x"][0] == 1000 and by_time["x"][-1] == 3999


def test_several_runs_in_one_request(client, http, unique):
    first = _history(client, unique, 5)
    second = client.create_run(client.get_run(first).info.experiment_id).info.run_id
    response = http.get(URL, params=[("run_id", first), ("run_id", second), ("metric_key", "loss")])
    series = response.json()["series"]
    assert [s["run_id"] for s in series] == [first, second]
    assert len(series[0]["x"]) == 5
    assert series[1] == {
        "run_id": second,
        "metric_key": "loss",
        "x": [],
        "y": [],
        "point_count": 0,
        "downsampled": False,
    }


def test_bad_requests_are_mlflow_errors(client, http, unique):
    run_id = _history(client, unique, 3)
    cases = [
        ({"metric_key": "loss"}, 400, "INVALID_PARAMETER_VALUE"),
        ({"run_id": run_id}, 400, "INVALID_PARAMETER_VALUE"),
        ({"run_id": run_id, "metric_key": "loss", "max_points": 5}, 400, "INVALID_PARAMETER_VALUE"),
        (
            {"run_id": run_id, "metric_key": "loss", "max_points": "x"},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            {"run_id": run_id, "metric_key": "loss", "x_axis": "epoch"},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        ({"run_id": "0" * 32, "metric_key": "loss"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ]
    for params, status, code in cases:
        response = http.get(URL, params=params)
        assert response.status_code == status, params
        assert response.json()["error_code"] == code
    too_many = http.get(URL, params=[("metric_key", "loss")] + [("run_id", run_id)] * 101)
    assert too_many.status_code == 400
    unknown = http.get("/ajax-api/2.0/stratus/nope")
    assert unknown.status_code == 404
    assert unknown.json()["error_code"] == "ENDPOINT_NOT_FOUND"


RUNS_URL = "/ajax-api/2.0/stratus/runs/get"


def test_runs_from_several_experiments_in_one_request(client, http, unique):
    first = client.create_run(client.create_experiment(f"many-a-{unique}")).info.run_id
    other = client.create_experiment(f"many-b-{unique}")
    second = client.create_run(other).info.run_id
    client.log_param(second, "lr", "0.1")
    client.log_metric(second, "loss", 0.5)
    gone = "0" * 32
    response = http.post(RUNS_URL, json={"run_ids": [second, gone, first, second]})
    assert response.status_code == 200
    body = response.json()
    assert [r["info"]["run_id"] for r in body["runs"]] == [second, first]
    assert body["missing"] == [gone]
    assert (
        body["runs"][0]
        == http.get("/api/2.0/mlflow/runs/get", params={"run_id": second}).json()["run"]
    )


def test_runs_request_is_bounded(http):
    for ids in ([], ["a"] * 1001):
        response = http.post(RUNS_URL, json={"run_ids": ids})
        assert response.status_code == 400
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    wrong = http.post(RUNS_URL, json={"run_ids": [{"id": "abc"}]})
    assert wrong.status_code == 400


KEYS_URL = "/ajax-api/2.0/stratus/experiments/run-keys"


def test_run_keys_of_an_experiment(client, http, unique):
    experiment_id = client.create_experiment(f"keys-{unique}")
    elsewhere = client.create_experiment(f"keys-other-{unique}")
    for i in range(3):
        run_id = client.create_run(experiment_id).info.run_id
        client.log_param(run_id, f"p{i}", "1")
        client.log_param(run_id, "shared_param", "x")
        client.log_metric(run_id, "Loss_rate", 0.1)
        client.set_tag(run_id, "team", "vision")
    client.log_metric(client.create_run(elsewhere).info.run_id, "not_here", 1.0)

    body = http.get(KEYS_URL, params={"experiment_id": experiment_id}).json()
    assert body["metrics"] == ["Loss_rate"]
    assert body["params"] == ["p0", "p1", "p2", "shared_param"]
    assert body["tags"] == ["team"]  # mlflow.* system tags are left out
    assert body.get("truncated", False) is False

    bounded = http.get(KEYS_URL, params={"experiment_id": experiment_id, "max_results": 2}).json()
    assert bounded["params"] == ["p0", "p1"]
    assert bounded["truncated"] is True

    # Case-insensitive, with LIKE wildcards taken literally.
    found = http.get(KEYS_URL, params={"experiment_id": experiment_id, "contains": "SS_R"}).json()
    assert found["metrics"] == ["Loss_rate"]
    assert found.get("params", []) == []
    none = http.get(KEYS_URL, params={"experiment_id": experiment_id, "contains": "oss%"}).json()
    assert none.get("metrics", []) == []


def test_run_keys_errors(http):
    missing = http.get(KEYS_URL, params={"experiment_id": "987654321"})
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    for params in ({}, {"experiment_id": "1", "max_results": 0}, {"experiment_id": "x"}):
        response = http.get(KEYS_URL, params=params)
        assert response.status_code == 400, params
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_permission_without_auth_is_manage(http):
    url = "/ajax-api/2.0/stratus/permission"
    assert http.get(url, params={"experiment_id": "0"}).json() == {"permission": "MANAGE"}
    assert http.get(url, params={"model_name": "m"}).json() == {"permission": "MANAGE"}
    for params in ({}, {"experiment_id": "0", "model_name": "m"}):
        response = http.get(url, params=params)
        assert response.status_code == 400
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert http.get("/ajax-api/2.0/stratus/session").json() == {"auth_enabled": False}
