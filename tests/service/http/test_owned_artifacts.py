"""service/http/owned_artifacts.py in-process: artifacts by run, logged model and model version."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

from tests.support.in_process import assert_error, new_experiment

API = "/api/2.0/mlflow"
PROXIED = "/api/2.0/mlflow-artifacts/artifacts"


def _run_with_file(api: TestClient) -> tuple[str, str]:
    """A run with ``dir/a.txt`` uploaded as the UI does; its id and artifact URI."""
    info = api.post(f"{API}/runs/create", json={"experiment_id": new_experiment(api)}).json()[
        "run"
    ]["info"]
    uploaded = api.post(
        f"{API}/upload-artifact",
        params={"run_uuid": info["run_id"], "path": "dir/a.txt"},
        content=b"hello",
    )
    assert uploaded.status_code == 200 and uploaded.content == b""
    return info["run_id"], info["artifact_uri"]


def test_a_run_lists_one_directory_at_a_time_relative_to_its_root(api: TestClient) -> None:
    run_id, artifact_uri = _run_with_file(api)
    root = api.get(f"{API}/artifacts/list", params={"run_id": run_id}).json()
    assert root == {"root_uri": artifact_uri, "files": [{"path": "dir", "is_dir": True}]}
    inner = api.get(f"{API}/artifacts/list", params={"run_id": run_id, "path": "dir"}).json()
    assert inner["files"] == [{"path": "dir/a.txt", "is_dir": False, "file_size": 5}]
    # The older run_uuid parameter names the run as well.
    assert api.get(f"{API}/artifacts/list", params={"run_uuid": run_id}).json() == root
    empty = api.get(f"{API}/artifacts/list", params={"run_id": run_id, "path": "nothing"})
    assert empty.status_code == 200 and empty.json() == {"root_uri": artifact_uri}


def test_get_artifact_sends_the_file_and_refuses_escapes(api: TestClient) -> None:
    run_id, _ = _run_with_file(api)
    got = api.get("/get-artifact", params={"run_id": run_id, "path": "dir/a.txt"})
    assert got.status_code == 200 and got.content == b"hello"
    assert got.headers["content-type"].startswith("text/plain")
    assert "a.txt" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"
    missing = api.get("/get-artifact", params={"run_id": run_id, "path": "dir/b.txt"})
    assert_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")
    escape = api.get("/get-artifact", params={"run_id": run_id, "path": "../../x"})
    assert_error(escape, 400, "INVALID_PARAMETER_VALUE")
    no_run = api.get("/get-artifact", params={"run_id": uuid.uuid4().hex, "path": "a"})
    assert_error(no_run, 404, "RESOURCE_DOES_NOT_EXIST")


def test_ui_uploads_need_a_run_a_path_and_data(api: TestClient) -> None:
    run_id, _ = _run_with_file(api)
    upload = f"{API}/upload-artifact"
    assert_error(
        api.post(upload, params={"path": "x"}, content=b"x"), 400, "INVALID_PARAMETER_VALUE"
    )
    assert_error(
        api.post(upload, params={"run_uuid": run_id}, content=b"x"), 400, "INVALID_PARAMETER_VALUE"
    )
    empty = api.post(upload, params={"run_uuid": run_id, "path": "e.txt"}, content=b"")
    assert_error(empty, 400, "INVALID_PARAMETER_VALUE")
    escape = api.post(upload, params={"run_uuid": run_id, "path": "../up.txt"}, content=b"x")
    assert_error(escape, 400, "INVALID_PARAMETER_VALUE")
    too_big = api.post(
        upload,
        params={"run_uuid": run_id, "path": "big.bin"},
        content=b"x" * (10 * 1024 * 1024 + 1),
    )
    assert_error(too_big, 400, "INVALID_PARAMETER_VALUE")
    listed = api.get(f"{API}/artifacts/list", params={"run_id": run_id}).json()["files"]
    assert [f["path"] for f in listed] == ["dir"]


def test_a_logged_models_file_browser(api: TestClient) -> None:
    created = api.post(
        f"{API}/logged-models", json={"experiment_id": new_experiment(api), "name": "m"}
    ).json()["model"]["info"]
    model_id, location = created["model_id"], created["artifact_uri"]
    assert location.startswith("mlflow-artifacts:/")
    put = api.put(
        f"{PROXIED}/{location.removeprefix('mlflow-artifacts:/')}/MLmodel", content=b"x: 1"
    )
    assert put.status_code == 200, put.text
    base = f"{API}/logged-models/{model_id}/artifacts"
    listed = api.get(f"{base}/directories").json()
    assert listed == {
        "root_uri": location,
        "files": [{"path": "MLmodel", "is_dir": False, "file_size": 4}],
    }
    got = api.get(f"{base}/files", params={"artifact_file_path": "MLmodel"})
    assert got.status_code == 200 and got.content == b"x: 1"
    assert_error(api.get(f"{base}/files"), 400, "BAD_REQUEST")
    assert_error(
        api.get(f"{API}/logged-models/m-{uuid.uuid4().hex}/artifacts/directories"),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_a_model_versions_file_by_name_and_version(api: TestClient) -> None:
    run_id, artifact_uri = _run_with_file(api)
    name = f"owned-model-{uuid.uuid4().hex[:8]}"
    api.post(f"{API}/registered-models/create", json={"name": name})
    version = api.post(
        f"{API}/model-versions/create",
        json={"name": name, "source": f"{artifact_uri}/dir", "run_id": run_id},
    ).json()["model_version"]["version"]
    got = api.get(
        "/model-versions/get-artifact", params={"name": name, "version": version, "path": "a.txt"}
    )
    assert got.status_code == 200 and got.content == b"hello"
    missing = api.get(
        "/model-versions/get-artifact", params={"name": name, "version": "99", "path": "a.txt"}
    )
    assert_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")
