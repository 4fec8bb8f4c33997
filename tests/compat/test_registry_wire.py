"""Registry wire shapes and error codes over raw HTTP, as the contract document records them."""

from __future__ import annotations

import httpx
import pytest

from tests.compat.test_wire_errors import assert_error

API = "/api/2.0/mlflow"


@pytest.fixture
def logged_model(http: httpx.Client, unique: str) -> dict:
    """A logged model with a source run, as ``log_model`` leaves it (files not needed here)."""
    experiment_id = http.post(f"{API}/experiments/create", json={"name": f"rw-{unique}"}).json()[
        "experiment_id"
    ]
    run_id = http.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json()["run"][
        "info"
    ]["run_id"]
    created = http.post(
        f"{API}/logged-models",
        json={"experiment_id": experiment_id, "name": "model", "source_run_id": run_id},
    )
    return created.json()["model"]["info"]


@pytest.fixture
def model_name(http: httpx.Client, unique: str) -> str:
    name = f"wire-model-{unique}"
    assert http.post(f"{API}/registered-models/create", json={"name": name}).status_code == 200
    return name


def _create_version(http: httpx.Client, name: str, logged_model: dict) -> dict:
    model_id = logged_model["model_id"]
    response = http.post(
        f"{API}/model-versions/create",
        json={
            "name": name,
            "source": f"models:/{model_id}",
            "model_id": model_id,
            "tags": [{"key": "framework", "value": "sklearn"}],
        },
    )
    assert response.status_code == 200, response.text
    return response.json()["model_version"]


def test_registered_model_shapes(http: httpx.Client, unique: str) -> None:
    name = f"shapes-{unique}"
    created = http.post(f"{API}/registered-models/create", json={"name": name}).json()
    model = created["registered_model"]
    assert set(model) == {"name", "creation_timestamp", "last_updated_timestamp"}
    assert isinstance(model["creation_timestamp"], int)

    http.post(f"{API}/registered-models/set-tag", json={"name": name, "key": "k", "value": "v"})
    got = http.get(f"{API}/registered-models/get", params={"name": name}).json()
    assert got["registered_model"]["tags"] == [{"key": "k", "value": "v"}]
    assert "latest_versions" not in got["registered_model"]


def test_version_shapes_follow_the_real_server(
    http: httpx.Client, model_name: str, logged_model: dict
) -> None:
    version = _create_version(http, model_name, logged_model)
    assert version["version"] == "1"
    assert version["current_stage"] == "None"
    assert version["status"] == "READY"
    assert version["description"] == "" and version["run_link"] == ""
    assert version["run_id"] == logged_model["source_run_id"]
    assert version["source"] == f"models:/{logged_model['model_id']}"
    assert version["tags"] == [{"key": "framework", "value": "sklearn"}]
    assert isinstance(version["creation_timestamp"], int)
    assert "aliases" not in version

    alias = http.post(
        f"{API}/registered-models/alias",
        json={"name": model_name, "alias": "champion", "version": "1"},
    )
    assert alias.status_code == 200 and alias.json() == {}
    by_alias = http.get(
        f"{API}/registered-models/alias", params={"name": model_name, "alias": "champion"}
    ).json()["model_version"]
    assert by_alias["aliases"] == ["champion"]
    model = http.get(f"{API}/registered-models/get", params={"name": model_name}).json()
    assert model["registered_model"]["aliases"] == [{"alias": "champion", "version": "1"}]
    assert [v["version"] for v in model["registered_model"]["latest_versions"]] == ["1"]

    uri = http.get(
        f"{API}/model-versions/get-download-uri", params={"name": model_name, "version": "1"}
    ).json()
    assert uri == {"artifact_uri": logged_model["artifact_uri"]}

    tagged = http.get(f"{API}/logged-models/{logged_model['model_id']}").json()["model"]["info"]
    assert {
        "key": "mlflow.modelVersions",
        "value": f'[{{"name": "{model_name}", "version": 1}}]',  # an integer, as in MLflow
    } in tagged["tags"]


def test_delete_endpoints_take_json_bodies(
    http: httpx.Client, model_name: str, logged_model: dict
) -> None:
    _create_version(http, model_name, logged_model)
    _create_version(http, model_name, logged_model)
    http.post(
        f"{API}/registered-models/alias", json={"name": model_name, "alias": "a", "version": 2}
    )
    calls = [
        ("registered-models/delete-tag", {"name": model_name, "key": "missing-is-fine"}),
        ("registered-models/alias", {"name": model_name, "alias": "a"}),
        ("model-versions/delete-tag", {"name": model_name, "version": "1", "key": "framework"}),
        ("model-versions/delete", {"name": model_name, "version": "2"}),
        ("registered-models/delete", {"name": model_name}),
    ]
    for path, body in calls:
        response = http.request("DELETE", f"{API}/{path}", json=body)
        assert response.status_code == 200 and response.json() == {}, (path, response.text)
    assert_error(
        http.get(f"{API}/registered-models/get", params={"name": model_name}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        f"Registered Model with name={model_name} not found",
    )


def test_latest_versions_by_post_and_get(
    http: httpx.Client, model_name: str, logged_model: dict
) -> None:
    for _ in range(3):
        _create_version(http, model_name, logged_model)
    staged = http.post(
        f"{API}/model-versions/transition-stage",
        json={
            "name": model_name,
            "version": "2",
            "stage": "Staging",
            "archive_existing_versions": False,
        },
    )
    assert staged.json()["model_version"]["current_stage"] == "Staging"
    posted = http.post(
        f"{API}/registered-models/get-latest-versions",
        json={"name": model_name, "stages": ["Staging"]},
    ).json()
    assert [v["version"] for v in posted["model_versions"]] == ["2"]
    got = http.get(
        f"{API}/registered-models/get-latest-versions",
        params=[("name", model_name), ("stages", "None"), ("stages", "Staging")],
    ).json()
    assert [(v["version"], v["current_stage"]) for v in got["model_versions"]] == [
        ("2", "Staging"),
        ("3", "None"),
    ]


def test_prompts_are_hidden_from_the_clients_search(http: httpx.Client, unique: str) -> None:
    prompt_tag = {"key": "mlflow.prompt.is_prompt", "value": "true"}
    for name, tags in (
        (f"p-{unique}-model", []),
        (f"p-{unique}-prompt", [prompt_tag]),
        (f"p-{unique}-other", [{"key": "mlflow.prompt.is_prompt", "value": "false"}]),
    ):
        http.post(f"{API}/registered-models/create", json={"name": name, "tags": tags})

    def names(filter_string: str) -> list[str]:
        found = http.get(
            f"{API}/registered-models/search", params={"filter": filter_string, "max_results": 100}
        ).json()
        return [m["name"] for m in found.get("registered_models", [])]

    client_filter = f"name LIKE 'p-{unique}-%' AND tag.`mlflow.prompt.is_prompt` != 'true'"
    assert names(client_filter) == [f"p-{unique}-model", f"p-{unique}-other"]
    assert names(f"name LIKE 'p-{unique}-%'") == [f"p-{unique}-model", f"p-{unique}-other"]
    prompts = f"name LIKE 'p-{unique}-%' AND tags.`mlflow.prompt.is_prompt` = 'true'"
    assert names(prompts) == [f"p-{unique}-prompt"]


def test_ajax_prefix_serves_the_registry(http: httpx.Client, model_name: str) -> None:
    response = http.get("/ajax-api/2.0/mlflow/registered-models/get", params={"name": model_name})
    assert response.json()["registered_model"]["name"] == model_name


def test_error_cases(http: httpx.Client, model_name: str, logged_model: dict) -> None:
    _create_version(http, model_name, logged_model)
    assert_error(
        http.post(f"{API}/registered-models/create", json={"name": model_name}),
        400,
        "RESOURCE_ALREADY_EXISTS",
        f"Registered Model (name={model_name}) already exists",
    )
    assert_error(
        http.get(f"{API}/registered-models/alias", params={"name": model_name, "alias": "nope"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Registered model alias nope not found.",
    )
    missing = [
        http.get(f"{API}/registered-models/alias", params={"name": "no-such", "alias": "a"}),
        http.get(f"{API}/model-versions/get", params={"name": model_name, "version": "9"}),
        http.get(
            f"{API}/model-versions/get", params={"name": model_name, "version": "99999999999"}
        ),
        http.get(f"{API}/model-versions/get-download-uri", params={"name": "no", "version": "1"}),
        http.post(f"{API}/model-versions/create", json={"name": "no-such", "source": "s3://b/m"}),
        http.post(
            f"{API}/model-versions/create",
            json={"name": model_name, "source": "models:/m-0123", "model_id": "m-0123"},
        ),
        http.post(f"{API}/registered-models/rename", json={"name": "no-such", "new_name": "other"}),
        http.request("DELETE", f"{API}/registered-models/delete", json={"name": "no-such"}),
        http.request(
            "DELETE", f"{API}/model-versions/delete", json={"name": model_name, "version": "5"}
        ),
    ]
    for response in missing:
        assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")

    invalid = [
        http.get(f"{API}/registered-models/get"),
        http.get(f"{API}/model-versions/get", params={"name": model_name, "version": "abc"}),
        http.post(f"{API}/registered-models/create", json={"name": ""}),
        http.post(f"{API}/registered-models/create", json={"name": "a/b"}),
        http.post(f"{API}/registered-models/rename", json={"name": model_name}),
        http.post(f"{API}/model-versions/create", json={"name": model_name}),
        http.post(
            f"{API}/model-versions/create", json={"name": model_name, "source": "/etc/passwd"}
        ),
        http.post(
            f"{API}/model-versions/transition-stage",
            json={"name": model_name, "version": "1", "stage": "Gold"},
        ),
        http.post(
            f"{API}/model-versions/transition-stage",
            json={
                "name": model_name,
                "version": "1",
                "stage": "None",
                "archive_existing_versions": True,
            },
        ),
        http.post(
            f"{API}/registered-models/alias",
            json={"name": model_name, "alias": "v2", "version": "1"},
        ),
        http.post(f"{API}/registered-models/set-tag", json={"name": model_name, "key": "k"}),
        http.get(f"{API}/registered-models/search", params={"filter": "name >>> 'x'"}),
        http.get(f"{API}/registered-models/search", params={"filter": "run_id = 'x'"}),
        http.get(f"{API}/registered-models/search", params={"max_results": "1001"}),
        http.get(f"{API}/registered-models/search", params={"page_token": "not base64!"}),
        http.get(f"{API}/model-versions/search", params={"order_by": "bogus DESC"}),
        http.get(f"{API}/model-versions/search", params={"max_results": "0"}),
    ]
    for response in invalid:
        assert_error(response, 400, "INVALID_PARAMETER_VALUE")
