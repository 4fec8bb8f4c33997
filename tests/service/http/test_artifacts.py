"""service/http/artifacts.py in-process: the proxied artifact routes' contract."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def test_upload_list_download_delete(api: TestClient) -> None:
    # An experiment folder of its own: the app is shared with the package's other modules,
    # and tests/service/http/test_contract_sweep.py leaves a file named "1" at the root.
    folder = f"{uuid.uuid4().hex[:8]}/{uuid.uuid4().hex}/artifacts"
    assert api.put(f"{ARTIFACTS}/{folder}/notes/a.txt", content=b"hello").status_code == 200
    listed = api.get(ARTIFACTS, params={"path": f"{folder}/notes"}).json()
    assert listed == {"files": [{"path": "a.txt", "is_dir": False, "file_size": 5}]}
    downloaded = api.get(f"{ARTIFACTS}/{folder}/notes/a.txt")
    assert downloaded.status_code == 200 and downloaded.content == b"hello"
    assert api.delete(f"{ARTIFACTS}/{folder}/notes/a.txt").status_code == 200
    missing = api.get(f"{ARTIFACTS}/{folder}/notes/a.txt")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_paths_that_escape_the_root_are_refused(api: TestClient) -> None:
    # Percent-encoded, so that the client sends the dots as they are instead of resolving them.
    for path in ("%2e%2e/outside.txt", "1/%2e%2e/%2e%2e/outside.txt", "1/r/%2e%2e%2f%2e%2e%2fx"):
        refused = api.put(f"{ARTIFACTS}/{path}", content=b"x")
        assert refused.status_code == 400, path
        assert refused.json() == {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": "Invalid path",
        }
    listed = api.get(ARTIFACTS, params={"path": "../"})
    assert listed.status_code == 400
    assert listed.json()["error_code"] == "INVALID_PARAMETER_VALUE"
