"""service/http/meta.py in-process: health, version and server-info probes, as clients read them."""

from __future__ import annotations

from starlette.testclient import TestClient

from service.http.meta import MLFLOW_API_VERSION


def test_health_answers_plain_ok_to_get_and_head(api: TestClient) -> None:
    got = api.get("/health")
    assert got.status_code == 200 and got.text == "OK"
    assert got.headers["content-type"].startswith("text/plain")
    assert api.head("/health").status_code == 200


def test_version_is_the_level_that_selects_otlp_export(api: TestClient) -> None:
    """mlflow >= 3.4 pushes spans to /v1/traces only when the server reports 3.4 or later."""
    got = api.get("/version")
    assert got.status_code == 200 and got.text == MLFLOW_API_VERSION == "3.4.0"


def test_server_info_advertises_no_optional_capability(api: TestClient) -> None:
    """The mlflow client reads these flags with a False default: each one Stratus sets must
    be False (workspaces, multipart), or it would call endpoints that are not served."""
    for prefix in ("/api", "/ajax-api"):
        got = api.get(f"{prefix}/3.0/mlflow/server-info")
        assert got.status_code == 200
        assert got.headers["content-type"] == "application/json"
        assert got.json() == {
            "store_type": "SqlStore",
            "workspaces_enabled": False,
            "trace_archival_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
        }


def test_probes_refuse_other_methods(api: TestClient) -> None:
    assert api.post("/health").status_code == 405
    # server-info sits at the root, before the /api/3.0/mlflow mount, which answers a POST
    # that no route inside serves: a JSON 404 there (mlflow's Flask says 405).
    refused = api.post("/api/3.0/mlflow/server-info")
    assert refused.status_code == 404
    assert refused.json()["error_code"] == "ENDPOINT_NOT_FOUND"
