"""Wire details and error shapes over raw HTTP: MLflow's codes and statuses, never a 500."""

from __future__ import annotations

import httpx
import pytest

API = "/api/2.0/mlflow"


def assert_error(response: httpx.Response, status: int, code: str, match: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error_code"] == code, body
    assert match in body["message"], body


@pytest.fixture
def run_id(http: httpx.Client, unique: str) -> str:
    experiment_id = http.post(f"{API}/experiments/create", json={"name": f"wire-{unique}"}).json()[
        "experiment_id"
    ]
    return http.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json()["run"][
        "info"
    ]["run_id"]


def test_proto3_shapes(http: httpx.Client, unique: str) -> None:
    created = http.post(f"{API}/experiments/create", json={"name": f"shape-{unique}"})
    assert created.status_code == 200
    experiment_id = created.json()["experiment_id"]
    assert isinstance(experiment_id, str) and experiment_id.isdigit()

    run = http.post(
        f"{API}/runs/create",
        json={"experiment_id": experiment_id, "start_time": "1700000000000", "user_id": "ada"},
    ).json()["run"]
    info = run["info"]
    assert info["run_id"] == info["run_uuid"]
    assert info["status"] == "RUNNING"
    assert info["start_time"] == 1700000000000
    assert "end_time" not in info
    assert run["inputs"] == {} and run["outputs"] == {}

    run_id = info["run_id"]
    assert (
        http.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "k", "value": "v"}).json()
        == {}
    )
    for value in ("NaN", "Infinity", "-Infinity", "1.5"):
        logged = http.post(
            f"{API}/runs/log-metric",
            json={
                "run_id": run_id,
                "key": f"m{value}",
                "value": value,
                "timestamp": 1,
                "step": "2",
            },
        )
        assert logged.status_code == 200 and logged.json() == {}
    metrics = {
        m["key"]: m
        for m in http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"][
            "metrics"
        ]
    }
    assert metrics["mNaN"]["value"] == "NaN"
    assert metrics["mInfinity"]["value"] == 1.7976931348623157e308
    assert metrics["m-Infinity"]["value"] == -1.7976931348623157e308
    assert metrics["m1.5"] == {"key": "m1.5", "value": 1.5, "timestamp": 1, "step": 2}


def test_legacy_run_uuid_is_accepted(http: httpx.Client, run_id: str) -> None:
    response = http.get(f"{API}/runs/get", params={"run_uuid": run_id})
    assert response.json()["run"]["info"]["run_id"] == run_id


@pytest.mark.parametrize(
    ("path", "params", "code", "status", "match"),
    [
        ("runs/get", {"run_id": "0" * 32}, "RESOURCE_DOES_NOT_EXIST", 404, "not found"),
        (
            "runs/get",
            {},
            "INVALID_PARAMETER_VALUE",
            400,
            "Missing value for required parameter 'run_id'",
        ),
        (
            "experiments/get",
            {"experiment_id": "987654321"},
            "RESOURCE_DOES_NOT_EXIST",
            404,
            "No Experiment",
        ),
        (
            "experiments/get",
            {"experiment_id": "abc"},
            "INVALID_PARAMETER_VALUE",
            400,
            "valid integer",
        ),
        (
            "experiments/get",
            {"experiment_id": "99999999999999999999999"},
            "INVALID_PARAMETER_VALUE",
            400,
            "outside the 64-bit integer range",
        ),
        (
            "experiments/get-by-name",
            {"experiment_name": "no-such-experiment"},
            "RESOURCE_DOES_NOT_EXIST",
            404,
            "",
        ),
        (
            "metrics/get-history",
            {"run_id": "0" * 32, "metric_key": "x"},
            "RESOURCE_DOES_NOT_EXIST",
            404,
            "",
        ),
    ],
)
def test_get_errors(
    http: httpx.Client, path: str, params: dict, code: str, status: int, match: str
) -> None:
    assert_error(http.get(f"{API}/{path}", params=params), status, code, match)


def test_metric_value_errors(http: httpx.Client, run_id: str) -> None:
    base = {"run_id": run_id, "key": "m", "timestamp": 1}
    assert_error(
        http.post(f"{API}/runs/log-metric", json={**base, "value": "abc"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Invalid value \"abc\" for parameter 'value'",
    )
    assert_error(
        http.post(f"{API}/runs/log-metric", json={**base, "value": None}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Missing value for required parameter 'value'",
    )
    assert_error(
        http.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "m", "value": 1}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Missing value for required parameter 'timestamp'",
    )
    assert_error(
        http.post(f"{API}/runs/log-metric", json={**base, "value": 1, "step": "abc"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "parameter 'step'",
    )
    assert_error(
        http.post(f"{API}/runs/log-metric", json={**base, "value": 1, "step": 2**64}),
        400,
        "INVALID_PARAMETER_VALUE",
        "parameter 'step'",
    )


def test_log_to_missing_or_deleted_run(http: httpx.Client, run_id: str) -> None:
    metric = {"key": "m", "value": 1, "timestamp": 1}
    assert_error(
        http.post(f"{API}/runs/log-metric", json={"run_id": "f" * 32, **metric}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "",
    )
    assert http.post(f"{API}/runs/delete", json={"run_id": run_id}).status_code == 200
    assert_error(
        http.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "k", "value": "v"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "must be in the 'active' state. Current state is deleted.",
    )


def test_batch_limits_and_atomicity(http: httpx.Client, run_id: str) -> None:
    too_many = [{"key": f"m{i}", "value": i, "timestamp": 1} for i in range(1001)]
    assert_error(
        http.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": too_many}),
        400,
        "INVALID_PARAMETER_VALUE",
        "at most 1000 metrics",
    )
    params = [{"key": f"p{i}", "value": "v"} for i in range(101)]
    assert_error(
        http.post(f"{API}/runs/log-batch", json={"run_id": run_id, "params": params}),
        400,
        "INVALID_PARAMETER_VALUE",
        "at most 100 params",
    )
    assert (
        http.post(
            f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "fixed", "value": "1"}
        ).status_code
        == 200
    )
    torn = {
        "run_id": run_id,
        "metrics": [{"key": "should_not_exist", "value": 1, "timestamp": 1}],
        "tags": [{"key": "should_not_exist", "value": "x"}],
        "params": [{"key": "fixed", "value": "2"}],
    }
    assert_error(
        http.post(f"{API}/runs/log-batch", json=torn),
        400,
        "INVALID_PARAMETER_VALUE",
        "Changing param",
    )
    data = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert "metrics" not in data
    assert all(t["key"] != "should_not_exist" for t in data["tags"])


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        (
            {"value": "abc"},
            "Invalid value \"abc\" for parameter 'metrics.1.value' supplied:  Hint: Value was "
            "of type 'str'.",
        ),
        ({"value": None}, "Missing value for required parameter 'metrics.1.value'."),
        ({"step": None}, "Missing value for required parameter 'metrics.1.step'."),
        (
            {"timestamp": 2**63},
            "Invalid value 9223372036854775808 for parameter 'metrics.1.timestamp' supplied: "
            "out of int64 range.",
        ),
        (
            {"key": 7},
            "Invalid value 7 for parameter 'metrics.1.key' supplied:  Hint: Value was of type "
            "'int'.",
        ),
        ({"key": "bad key!*"}, "Invalid metric name: 'bad key!*'."),
    ],
)
def test_batch_metric_errors(http: httpx.Client, run_id: str, metric: dict, message: str) -> None:
    good = {"key": "m", "value": 1.5, "timestamp": 1, "step": 0}
    body = {"run_id": run_id, "metrics": [good, {**good, **metric}]}
    response = http.post(f"{API}/runs/log-batch", json=body)
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", message)
    assert (
        "metrics"
        not in http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    )


def test_batch_of_proto3_numbers(http: httpx.Client, run_id: str) -> None:
    """Numbers as strings, as proto3 JSON allows, next to plain ones."""
    metrics = [
        {"key": "m", "value": 1, "timestamp": 5, "step": 1},
        {"key": "m", "value": "NaN", "timestamp": "6", "step": "2"},
    ]
    assert (
        http.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}).json() == {}
    )
    history = http.get(
        f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"}
    ).json()["metrics"]
    assert history == [
        {"key": "m", "value": 1.0, "timestamp": 5, "step": 1},
        {"key": "m", "value": "NaN", "timestamp": 6, "step": 2},
    ]


@pytest.mark.parametrize(
    ("key", "match"),
    [
        ("bad key!*", "Invalid param name"),
        ("k" * 251, "exceeds the maximum length"),
        ("../x", "parent"),
    ],
)
def test_bad_param_keys(http: httpx.Client, run_id: str, key: str, match: str) -> None:
    assert_error(
        http.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": key, "value": "1"}),
        400,
        "INVALID_PARAMETER_VALUE",
        match,
    )


def test_long_param_value_is_accepted(http: httpx.Client, run_id: str) -> None:
    response = http.post(
        f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "long", "value": "x" * 8000}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2, 3]",
        b'"just a string"',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"experiment_id": {"nested": [1, {"deeper": true}]}}',
        b'{"name": 12345}',
        b'{"name": "nul\\u0000inside"}',
        b'{"name": ["a", "b"]}',
        b"\xff\xfe\x00garbage",
    ],
)
def test_malformed_bodies_are_400(http: httpx.Client, body: bytes) -> None:
    response = http.post(
        f"{API}/experiments/create", content=body, headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_nul_in_query_and_tag(http: httpx.Client, run_id: str) -> None:
    assert_error(
        http.get(f"{API}/runs/get", params={"run_id": "a\x00b"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert_error(
        http.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "k", "value": "a\u0000b"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_oversize_body_is_rejected(http: httpx.Client) -> None:
    response = http.post(
        f"{API}/experiments/create",
        content=b" " * (65 * 1024 * 1024),
        headers={"content-type": "application/json"},
    )
    assert_error(response, 413, "RESOURCE_LIMIT_EXCEEDED")


def test_routing_errors_keep_the_client_fallbacks(http: httpx.Client) -> None:
    missing = http.get(f"{API}/no-such-endpoint")
    assert_error(missing, 404, "ENDPOINT_NOT_FOUND")
    wrong_method = http.get(f"{API}/runs/create")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error_code"] == "BAD_REQUEST"
    assert http.get("/api/2.0/mlflow/traces/whatever").json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_probes(http: httpx.Client) -> None:
    assert http.get("/health").text == "OK"
    # The lowest level at which the client ships spans to /v1/traces (docs/tracing.md).
    assert http.get("/version").text == "3.4.0"
    info = http.get("/api/3.0/mlflow/server-info").json()
    assert info["store_type"] == "SqlStore"


def test_duplicate_experiment_name_even_when_deleted(http: httpx.Client, unique: str) -> None:
    name = f"dup-{unique}"
    experiment_id = http.post(f"{API}/experiments/create", json={"name": name}).json()[
        "experiment_id"
    ]
    http.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id})
    assert_error(
        http.post(f"{API}/experiments/create", json={"name": name}), 400, "RESOURCE_ALREADY_EXISTS"
    )


def test_bad_page_token(http: httpx.Client) -> None:
    response = http.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "page_token": "%%%"})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "page token")
    response = http.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "max_results": 50001})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_bad_filter(http: httpx.Client) -> None:
    response = http.post(
        f"{API}/runs/search", json={"experiment_ids": ["0"], "filter": "metrics.x >>> 1"}
    )
    assert_error(response, 400, "INVALID_PARAMETER_VALUE")
