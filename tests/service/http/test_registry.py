"""service/http/registry.py in-process: registered models, versions and aliases on the wire."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

RM = "/api/2.0/mlflow/registered-models"
MV = "/api/2.0/mlflow/model-versions"


def _model(api: TestClient) -> str:
    name = f"registry-in-process-{uuid.uuid4().hex[:8]}"
    created = api.post(f"{RM}/create", json={"name": name, "description": "first"})
    assert created.status_code == 200, created.text
    assert created.json()["registered_model"]["name"] == name
    return name


def _version(api: TestClient, name: str) -> str:
    created = api.post(f"{MV}/create", json={"name": name, "source": "mlflow-artifacts:/1/m"})
    assert created.status_code == 200, created.text
    version = created.json()["model_version"]
    assert version["status"] == "READY" and version["current_stage"] == "None"
    return str(version["version"])


def test_versions_number_up_and_aliases_resolve(api: TestClient) -> None:
    name = _model(api)
    assert [_version(api, name), _version(api, name)] == ["1", "2"]
    alias = {"name": name, "alias": "champion", "version": "1"}
    assert api.post(f"{RM}/alias", json=alias).status_code == 200
    by_alias = api.get(f"{RM}/alias", params={"name": name, "alias": "champion"}).json()
    assert by_alias["model_version"]["version"] == "1"
    model = api.get(f"{RM}/get", params={"name": name}).json()["registered_model"]
    assert model["aliases"] == [{"alias": "champion", "version": "1"}]


def test_update_rename_and_delete(api: TestClient) -> None:
    name = _model(api)
    updated = api.patch(f"{RM}/update", json={"name": name, "description": "second"})
    assert updated.json()["registered_model"]["description"] == "second"
    renamed = api.post(f"{RM}/rename", json={"name": name, "new_name": f"{name}-new"})
    assert renamed.json()["registered_model"]["name"] == f"{name}-new"
    gone = api.get(f"{RM}/get", params={"name": name})
    assert gone.status_code == 404 and gone.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert api.request("DELETE", f"{RM}/delete", json={"name": f"{name}-new"}).json() == {}


def test_errors_have_mlflow_codes(api: TestClient) -> None:
    name = _model(api)
    taken = api.post(f"{RM}/create", json={"name": name})
    assert taken.status_code == 400 and taken.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    no_version = api.get(f"{MV}/get", params={"name": name, "version": "9"})
    assert no_version.status_code == 404
    assert no_version.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    bad_version = api.get(f"{MV}/get", params={"name": name, "version": "one"})
    assert bad_version.status_code == 400
    assert bad_version.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_search_versions_by_name(api: TestClient) -> None:
    name = _model(api)
    _version(api, name)
    found = api.get(f"{MV}/search", params={"filter": f"name = '{name}'"}).json()
    assert [(v["name"], v["version"]) for v in found["model_versions"]] == [(name, "1")]
