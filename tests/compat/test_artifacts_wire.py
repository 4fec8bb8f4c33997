"""The proxied artifact API over raw HTTP: shapes, headers, errors, and path safety."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.support.server import ServerProcess

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def assert_error(response: httpx.Response, status: int, code: str, match: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error_code"] == code, body
    assert match in body["message"], body


@pytest.fixture
def run_root(http: httpx.Client, unique: str) -> str:
    """``<exp_id>/<run_id>/artifacts`` of a fresh run, as its artifact_uri names it."""
    api = "/api/2.0/mlflow"
    experiment_id = http.post(f"{api}/experiments/create", json={"name": f"aw-{unique}"}).json()[
        "experiment_id"
    ]
    info = http.post(f"{api}/runs/create", json={"experiment_id": experiment_id}).json()["run"][
        "info"
    ]
    return info["artifact_uri"].removeprefix("mlflow-artifacts:/")


def test_upload_download_list_delete(http: httpx.Client, run_root: str) -> None:
    put = http.put(
        f"{ARTIFACTS}/{run_root}/dir/a.txt",
        content=b"hello",
        headers={"Content-Type": "text/plain"},
    )
    assert put.status_code == 200 and put.content == b""
    http.put(f"{ARTIFACTS}/{run_root}/dir/plot.png", content=b"\x89PNG...").raise_for_status()
    http.put(f"{ARTIFACTS}/{run_root}/weights.bin", content=b"\x00" * 10).raise_for_status()
    http.put(f"{ARTIFACTS}/{run_root}/MLmodel", content=b"flavors: {}\n").raise_for_status()

    got = http.get(f"{ARTIFACTS}/{run_root}/dir/a.txt")
    assert got.status_code == 200 and got.content == b"hello"
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["content-length"] == "5"
    assert got.headers["content-disposition"] == 'attachment; filename="a.txt"'
    assert got.headers["x-content-type-options"] == "nosniff"
    for name, media_type in [
        ("dir/plot.png", "image/png"),
        ("weights.bin", "application/octet-stream"),
        ("MLmodel", "text/plain"),
    ]:
        assert (
            http.get(f"{ARTIFACTS}/{run_root}/{name}")
            .headers["content-type"]
            .startswith(media_type)
        )

    assert http.get(ARTIFACTS, params={"path": run_root}).json() == {
        "files": [
            {"path": "MLmodel", "is_dir": False, "file_size": 12},
            {"path": "dir", "is_dir": True},
            {"path": "weights.bin", "is_dir": False, "file_size": 10},
        ]
    }
    assert http.get(ARTIFACTS, params={"path": f"{run_root}/dir"}).json() == {
        "files": [
            {"path": "a.txt", "is_dir": False, "file_size": 5},
            {"path": "plot.png", "is_dir": False, "file_size": 7},
        ]
    }
    for empty in (f"{run_root}/dir/a.txt", f"{run_root}/missing"):
        listed = http.get(ARTIFACTS, params={"path": empty})
        assert listed.status_code == 200 and listed.json() == {}

    ajax = http.get(f"/ajax-api/2.0/mlflow-artifacts/artifacts/{run_root}/dir/a.txt")
    assert ajax.content == b"hello"

    assert http.delete(f"{ARTIFACTS}/{run_root}/dir/a.txt").json() == {}
    assert_error(
        http.get(f"{ARTIFACTS}/{run_root}/dir/a.txt"),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        f"No such artifact: '{run_root}/dir/a.txt'",
    )
    assert http.delete(f"{ARTIFACTS}/{run_root}/dir").json() == {}
    assert http.delete(f"{ARTIFACTS}/{run_root}/dir").json() == {}
    assert [f["path"] for f in http.get(ARTIFACTS, params={"path": run_root}).json()["files"]] == [
        "MLmodel",
        "weights.bin",
    ]


def test_directory_and_file_conflicts(http: httpx.Client, run_root: str) -> None:
    http.put(f"{ARTIFACTS}/{run_root}/sub/a.txt", content=b"a").raise_for_status()
    assert_error(http.get(f"{ARTIFACTS}/{run_root}/sub"), 400, "INVALID_PARAMETER_VALUE")
    assert_error(
        http.put(f"{ARTIFACTS}/{run_root}/sub", content=b"x"), 400, "INVALID_PARAMETER_VALUE"
    )
    assert_error(
        http.put(f"{ARTIFACTS}/{run_root}/sub/a.txt/b.txt", content=b"x"),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert http.get(f"{ARTIFACTS}/{run_root}/sub/a.txt").content == b"a"


def test_unicode_names(http: httpx.Client, run_root: str) -> None:
    http.put(f"{ARTIFACTS}/{run_root}/résumé ✓.txt", content="ü".encode()).raise_for_status()
    got = http.get(f"{ARTIFACTS}/{run_root}/résumé ✓.txt")
    assert got.content == "ü".encode()
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"resume .txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%9C%93.txt"
    )
    (entry,) = http.get(ARTIFACTS, params={"path": run_root}).json()["files"]
    assert entry["path"] == "résumé ✓.txt"


def raw_request(
    server: ServerProcess, method: str, target: str, body: bytes = b""
) -> httpx.Response:
    """Send ``target`` byte for byte: no client-side normalisation of ``..`` or escapes."""
    address = urlsplit(server.url)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        conn.request(method, target, body=body or None)
        answer = conn.getresponse()
        return httpx.Response(answer.status, headers=answer.getheaders(), content=answer.read())
    finally:
        conn.close()


TRAVERSALS = [
    ("GET", f"{ARTIFACTS}/1/../../../../etc/passwd"),
    ("GET", f"{ARTIFACTS}/1/%2e%2e/%2e%2e/%2e%2e/etc/passwd"),
    ("GET", f"{ARTIFACTS}/1/%2E%2E/x"),
    ("GET", f"{ARTIFACTS}/1/%252e%252e/%252e%252e/x"),
    ("GET", f"{ARTIFACTS}//etc/passwd"),
    ("GET", f"{ARTIFACTS}/%2Fetc%2Fpasswd"),
    ("GET", f"{ARTIFACTS}/1/r/artifacts/..%5C..%5Cx"),
    ("GET", f"{ARTIFACTS}/1/r/artifacts/a%00b"),
    ("PUT", f"{ARTIFACTS}/1/r/artifacts/../../../../escaped.txt"),
    ("PUT", f"{ARTIFACTS}/1/r/artifacts/..%2f..%2f..%2f..%2fescaped.txt"),
    ("PUT", f"{ARTIFACTS}//tmp/stratus-escaped.txt"),
    ("PUT", f"{ARTIFACTS}/C:/escaped.txt"),
    ("PUT", f"{ARTIFACTS}/1/r/artifacts/a%5Cb.txt"),
    ("PUT", f"{ARTIFACTS}/1/r/artifacts/a%00.txt"),
    ("PUT", f"{ARTIFACTS}/.stratus-staging/x"),
    ("DELETE", f"{ARTIFACTS}/1/.."),
    ("DELETE", f"{ARTIFACTS}/"),
    ("GET", f"{ARTIFACTS}?path=../.."),
    ("GET", f"{ARTIFACTS}?path=%2Fetc"),
    ("GET", f"{ARTIFACTS}?path=1%2F%2e%2e%2F%2e%2e"),
    ("GET", f"{ARTIFACTS}?path=1/r/artifacts%00"),
    ("GET", f"{ARTIFACTS}?path=..%5C..%5C"),
]


@pytest.mark.parametrize(("method", "target"), TRAVERSALS)
def test_traversal_is_refused(server: ServerProcess, method: str, target: str) -> None:
    response = raw_request(server, method, target, body=b"pwned" if method == "PUT" else b"")
    assert_error(response, 400, "INVALID_PARAMETER_VALUE")
    root = Path(server.artifact_root)
    assert not (root.parent / "escaped.txt").exists()
    assert not Path("/tmp/stratus-escaped.txt").exists()
    assert not any(p.name.startswith(("escaped", "a\\")) for p in root.rglob("*"))


def test_one_runs_uri_cannot_reach_another(client: MlflowClient, unique: str) -> None:
    experiment_id = client.create_experiment(f"isolation-{unique}")
    run_a = client.create_run(experiment_id).info.run_id
    run_b = client.create_run(experiment_id).info.run_id
    client.log_text(run_b, "secret", "secret.txt")
    # The client surfaces the server's 400 as an HTTPError here, as an MlflowException there.
    with pytest.raises((MlflowException, requests.HTTPError), match="Invalid path"):
        client.list_artifacts(run_a, f"../../{run_b}/artifacts")
    with pytest.raises((MlflowException, requests.HTTPError)):
        client.download_artifacts(run_a, f"../../{run_b}/artifacts/secret.txt")
    assert client.list_artifacts(run_a) == []


@pytest.mark.slow
def test_listing_ten_thousand_files(
    server: ServerProcess, http: httpx.Client, run_root: str
) -> None:
    folder = Path(server.artifact_root, run_root, "many")
    folder.mkdir(parents=True)
    for i in range(10_000):
        (folder / f"f{i:05d}.txt").write_bytes(b"x")
    files = http.get(ARTIFACTS, params={"path": f"{run_root}/many"}).json()["files"]
    assert len(files) == 10_000
    assert files[0] == {"path": "f00000.txt", "is_dir": False, "file_size": 1}
