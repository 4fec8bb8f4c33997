"""The authorization holes of issue #16, each as an attack that must now fail.

In every case bob holds NO_PERMISSIONS on alice's experiment and on her registered model,
and the server's default permission is READ. Raw HTTP, because the attacks use fields the
mlflow client only sends in particular flows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.auth.conftest import MEMBERS, AuthServer

API = "/api/2.0/mlflow"
ALICE, BOB = MEMBERS[0], MEMBERS[1]


@dataclass
class Scene:
    """Alice's experiment, run, logged model and registered model; bob's own run."""

    alice: httpx.Client
    bob: httpx.Client
    experiment_id: str
    run_id: str
    logged_model_id: str
    model: str
    bob_experiment_id: str
    bob_run_id: str


def _client(server: AuthServer, email: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30, headers=server.headers(email))


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def _denied_or_missing(response: httpx.Response) -> None:
    """A refusal that is not a server error (the exact shape is pinned where it matters)."""
    assert 400 <= response.status_code < 500, response.text
    assert {"error_code", "message"} <= set(response.json())


def _new_run(client: httpx.Client, experiment_id: str) -> str:
    body = {"experiment_id": experiment_id, "start_time": int(time.time() * 1000)}
    return _ok(client.post(f"{API}/runs/create", json=body))["run"]["info"]["run_id"]


@pytest.fixture
def scene(auth_server: AuthServer, unique: str) -> Iterator[Scene]:
    alice, bob = _client(auth_server, ALICE), _client(auth_server, BOB)
    experiment_id = _ok(alice.post(f"{API}/experiments/create", json={"name": f"a-{unique}"}))[
        "experiment_id"
    ]
    run_id = _new_run(alice, experiment_id)
    logged_model_id = _ok(
        alice.post(
            f"{API}/logged-models",
            json={"experiment_id": experiment_id, "name": "m", "source_run_id": run_id},
        )
    )["model"]["info"]["model_id"]
    model = f"alice-model-{unique}"
    _ok(alice.post(f"{API}/registered-models/create", json={"name": model}))
    for path, key in (("experiments", "experiment_id"), ("registered-models", "name")):
        resource = experiment_id if key == "experiment_id" else model
        _ok(
            alice.post(
                f"{API}/{path}/permissions/create",
                json={key: resource, "username": BOB, "permission": "NO_PERMISSIONS"},
            )
        )
    bob_experiment_id = _ok(bob.post(f"{API}/experiments/create", json={"name": f"b-{unique}"}))[
        "experiment_id"
    ]
    bob_run_id = _new_run(bob, bob_experiment_id)
    yield Scene(
        alice,
        bob,
        experiment_id,
        run_id,
        logged_model_id,
        model,
        bob_experiment_id,
        bob_run_id,
    )
    alice.close()
    bob.close()


def _model_metrics(scene: Scene) -> list[dict]:
    model = _ok(scene.alice.get(f"{API}/logged-models/{scene.logged_model_id}"))["model"]
    return model.get("data", {}).get("metrics", [])


# --- 1. model_id writes into another experiment's logged models --------------------------


def test_log_metric_cannot_write_to_another_experiments_logged_model(scene: Scene) -> None:
    metric = {"key": "acc", "value": 0.99, "timestamp": 1, "step": 0}
    response = scene.bob.post(
        f"{API}/runs/log-metric",
        json={"run_id": scene.bob_run_id, "model_id": scene.logged_model_id, **metric},
    )
    assert response.status_code == 404, response.text
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert _model_metrics(scene) == []


def test_log_batch_cannot_write_to_another_experiments_logged_model(scene: Scene) -> None:
    metric = {"key": "acc", "value": 0.99, "timestamp": 1, "step": 0}
    response = scene.bob.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": scene.bob_run_id,
            "metrics": [metric, {**metric, "key": "loss", "model_id": scene.logged_model_id}],
        },
    )
    assert response.status_code == 404, response.text
    assert _model_metrics(scene) == []
    # Atomic: the metric without a model_id was not written either.
    run = _ok(scene.bob.get(f"{API}/runs/get", params={"run_id": scene.bob_run_id}))["run"]
    assert "metrics" not in run["data"]


def test_missing_and_foreign_logged_models_answer_alike(scene: Scene) -> None:
    metric = {"run_id": scene.bob_run_id, "key": "k", "value": 1.0, "timestamp": 1}
    foreign = scene.bob.post(
        f"{API}/runs/log-metric", json={**metric, "model_id": scene.logged_model_id}
    )
    missing = scene.bob.post(f"{API}/runs/log-metric", json={**metric, "model_id": "m-missing"})
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error_code"] == missing.json()["error_code"]


def test_metrics_on_a_logged_model_of_the_runs_own_experiment_still_work(scene: Scene) -> None:
    metric = {"key": "acc", "value": 0.5, "timestamp": 1, "step": 0}
    _ok(
        scene.alice.post(
            f"{API}/runs/log-batch",
            json={
                "run_id": scene.run_id,
                "metrics": [{**metric, "model_id": scene.logged_model_id}],
            },
        )
    )
    _ok(
        scene.alice.post(
            f"{API}/runs/log-metric",
            json={"run_id": scene.run_id, "model_id": scene.logged_model_id, **metric, "step": 1},
        )
    )
    assert {m["key"] for m in _model_metrics(scene)} == {"acc"}
