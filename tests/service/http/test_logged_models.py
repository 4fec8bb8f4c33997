"""service/http/logged_models.py in-process: a logged model's life on the wire."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

API = "/api/2.0/mlflow"


def _model(api: TestClient) -> tuple[str, str]:
    name = f"logged-in-process-{uuid.uuid4().hex[:8]}"
    experiment_id = api.post(f"{API}/experiments/create", json={"name": name}).json()[
        "experiment_id"
    ]
    created = api.post(f"{API}/logged-models", json={"experiment_id": experiment_id, "name": "m"})
    assert created.status_code == 200, created.text
    info = created.json()["model"]["info"]
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert info["artifact_uri"].endswith(f"/models/{info['model_id']}/artifacts")
    return experiment_id, str(info["model_id"])


def test_finalize_tag_and_get(api: TestClient) -> None:
    _, model_id = _model(api)
    finalized = api.patch(
        f"{API}/logged-models/{model_id}",
        json={"model_id": model_id, "status": "LOGGED_MODEL_READY"},
    )
    assert finalized.json()["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    tagged = api.patch(
        f"{API}/logged-models/{model_id}/tags", json={"tags": [{"key": "k", "value": "v"}]}
    )
    assert tagged.status_code == 200, tagged.text
    got = api.get(f"{API}/logged-models/{model_id}").json()["model"]
    assert got["info"]["tags"] == [{"key": "k", "value": "v"}]


def test_search_by_experiment_and_missing_model(api: TestClient) -> None:
    experiment_id, model_id = _model(api)
    found = api.post(f"{API}/logged-models/search", json={"experiment_ids": [experiment_id]})
    assert [m["info"]["model_id"] for m in found.json()["models"]] == [model_id]
    missing = api.get(f"{API}/logged-models/m-{uuid.uuid4().hex}")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
