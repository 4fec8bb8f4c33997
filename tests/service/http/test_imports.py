"""service/http/imports.py in-process: history written with its own ids and times, idempotently."""

from __future__ import annotations

import random
import uuid

import httpx
from starlette.testclient import TestClient

from tests.support.in_process import assert_error

API = "/api/2.0/mlflow"
IMPORT = "/api/2.0/stratus/import"


def _place(api: TestClient, name: str, **extra: object) -> httpx.Response:
    experiment = {
        "name": name,
        "creation_time": 1_500_000_000_000,
        "tags": [{"key": "k", "value": "v"}],
    }
    return api.post(f"{IMPORT}/experiments", json={"experiment": experiment, **extra})


def _experiment(api: TestClient) -> str:
    placed = _place(api, f"import-{uuid.uuid4().hex[:8]}")
    assert placed.status_code == 200, placed.text
    return str(placed.json()["experiment_id"])


def _run(api: TestClient, experiment_id: str, **fields: object) -> dict[str, object]:
    run = {
        "run_id": uuid.uuid4().hex,
        "name": "imported",
        "user_id": "ada",
        "status": "FINISHED",
        "start_time": 1_500_000_000_000,
        "end_time": 1_500_000_060_000,
        "params": [{"key": "lr", "value": "0.1"}],
        **fields,
    }
    placed = api.post(f"{IMPORT}/runs", json={"experiment_id": experiment_id, "run": run})
    assert placed.status_code == 200, placed.text
    return run


def test_an_experiment_takes_its_wanted_id_then_merges(api: TestClient) -> None:
    name = f"import-{uuid.uuid4().hex[:8]}"
    # Free in this database, and far enough below 2**31 that later ids still fit.
    wanted = random.randrange(10**6, 10**7)
    dry = _place(api, name, wanted_id=wanted, dry_run=True).json()
    assert dry == {"experiment_id": str(wanted), "outcome": "created"}
    assert api.get(f"{API}/experiments/get", params={"experiment_id": wanted}).status_code == 404
    created = _place(api, name, wanted_id=wanted).json()
    assert created == {"experiment_id": str(wanted), "outcome": "created"}
    again = _place(api, name, wanted_id=wanted + 1).json()
    assert again == {
        "experiment_id": str(wanted),
        "outcome": "merged",
        "note": f"an experiment with this name is id {wanted}",
    }
    got = api.get(f"{API}/experiments/get", params={"experiment_id": wanted}).json()["experiment"]
    assert got["creation_time"] == 1_500_000_000_000
    assert {"key": "k", "value": "v"} in got["tags"]


def test_a_run_keeps_its_id_times_status_and_user(api: TestClient) -> None:
    experiment_id = _experiment(api)
    run = _run(api, experiment_id)
    info = api.get(f"{API}/runs/get", params={"run_id": run["run_id"]}).json()["run"]["info"]
    assert info["run_id"] == run["run_id"] and info["experiment_id"] == experiment_id
    assert info["user_id"] == "ada" and info["status"] == "FINISHED"
    assert info["start_time"] == run["start_time"] and info["end_time"] == run["end_time"]
    repeated = api.post(f"{IMPORT}/runs", json={"experiment_id": experiment_id, "run": run})
    assert repeated.json()["outcome"] == "merged"
    assert repeated.json()["artifact_uri"] == info["artifact_uri"]


def test_metrics_arrive_as_logged_and_repeat_safely(api: TestClient) -> None:
    run_id = _run(api, _experiment(api))["run_id"]
    points = [
        {"key": "loss", "value": 1.0, "timestamp": 1_500_000_000_001, "step": 0},
        {"key": "loss", "value": "NaN", "timestamp": 1_500_000_000_002, "step": 1},
    ]
    for _ in range(2):
        sent = api.post(f"{IMPORT}/metrics", json={"run_id": run_id, "metrics": points})
        assert sent.status_code == 200 and sent.json() == {}
    history = api.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"})
    assert [(m["step"], m["value"]) for m in history.json()["metrics"]] == [(0, 1.0), (1, "NaN")]
    missing = api.post(f"{IMPORT}/metrics", json={"run_id": uuid.uuid4().hex, "metrics": points})
    assert_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")


def test_a_registered_model_its_versions_and_alias(api: TestClient) -> None:
    name = f"import-model-{uuid.uuid4().hex[:8]}"
    model = {"name": name, "creation_time": 1_500_000_000_000, "last_version": 3}
    assert api.post(f"{IMPORT}/registered-models", json=model).json() == {"outcome": "created"}
    version = {"name": name, "version": 3, "source": "s3://bucket/model", "creation_time": 1}
    assert api.post(f"{IMPORT}/model-versions", json=version).json() == {"outcome": "created"}
    assert api.post(f"{IMPORT}/model-versions", json=version).json()["outcome"] == "merged"
    alias = {"name": name, "alias": "champion", "version": 3}
    assert api.post(f"{IMPORT}/aliases", json=alias).json()["outcome"] == "created"
    got = api.get(f"{API}/registered-models/alias", params={"name": name, "alias": "champion"})
    assert got.json()["model_version"]["version"] == "3"
    orphan = {**version, "name": f"no-such-model-{uuid.uuid4().hex[:8]}"}
    assert_error(api.post(f"{IMPORT}/model-versions", json=orphan), 404, "RESOURCE_DOES_NOT_EXIST")


def test_malformed_records_are_invalid_parameter_value(api: TestClient) -> None:
    experiment_id = _experiment(api)
    bad_stage = {"experiment": {"name": "x", "lifecycle_stage": "archived"}}
    assert_error(api.post(f"{IMPORT}/experiments", json=bad_stage), 400, "INVALID_PARAMETER_VALUE")
    no_id = {"experiment_id": experiment_id, "run": {"name": "no id"}}
    assert_error(api.post(f"{IMPORT}/runs", json=no_id), 400, "INVALID_PARAMETER_VALUE")
    bad_status = {
        "experiment_id": experiment_id,
        "run": {"run_id": uuid.uuid4().hex, "status": "DONE"},
    }
    assert_error(api.post(f"{IMPORT}/runs", json=bad_status), 400, "INVALID_PARAMETER_VALUE")
    not_a_number = {"experiment_id": "first", "run": {"run_id": uuid.uuid4().hex}}
    assert_error(api.post(f"{IMPORT}/runs", json=not_a_number), 400, "INVALID_PARAMETER_VALUE")
