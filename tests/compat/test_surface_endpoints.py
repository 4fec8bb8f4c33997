"""MLflow 3.17 endpoints beyond the client's everyday traffic: the REST artifact listing,
the UI's downloads, uploads, chart histories and dataset summaries, with MLflow's content
types, sampling rules and error wording; ids out of range; the ``mlflow.modelVersions`` tag.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.utils.mime_type_utils import _guess_mime_type

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


def assert_error(response: httpx.Response, status: int, code: str, match: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error_code"] == code, body
    assert match in body["message"], body


@pytest.fixture
def run_id(client: MlflowClient, unique: str) -> str:
    experiment_id = client.create_experiment(f"surface-{unique}")
    return client.create_run(experiment_id).info.run_id


# --- artifacts/list ---------------------------------------------------------------------


def test_artifacts_list_is_mlflow_s_rest_listing(
    client: MlflowClient, http: httpx.Client, run_id: str
) -> None:
    client.log_text(run_id, "hello", "a.txt")
    client.log_text(run_id, "x,y\n1,2\n", "data/table.csv")
    run = client.get_run(run_id)

    root = http.get(f"{API}/artifacts/list", params={"run_id": run_id})
    assert root.status_code == 200
    assert root.json() == {
        "root_uri": run.info.artifact_uri,
        "files": [
            {"path": "a.txt", "is_dir": False, "file_size": 5},
            {"path": "data", "is_dir": True},
        ],
    }
    sub = http.get(f"{API}/artifacts/list", params={"run_uuid": run_id, "path": "data"})
    assert sub.json()["files"] == [{"path": "data/table.csv", "is_dir": False, "file_size": 8}]
    missing = http.get(f"{API}/artifacts/list", params={"run_id": run_id, "path": "nope"})
    assert missing.json() == {"root_uri": run.info.artifact_uri}


def test_artifacts_list_errors(http: httpx.Client, run_id: str) -> None:
    assert_error(
        http.get(f"{API}/artifacts/list", params={"run_id": run_id, "path": "../x"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Invalid path",
    )
    assert_error(
        http.get(f"{API}/artifacts/list", params={"run_id": "0" * 32}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert_error(
        http.get(f"{API}/artifacts/list"),
        400,
        "INVALID_PARAMETER_VALUE",
        "Missing value for required parameter 'run_id'.",
    )


# --- downloads with MLflow's content types -------------------------------------------------

NAMES = [
    "notes.txt",
    "MLmodel",
    "MLproject",
    "plot.png",
    "report.pdf",
    "metrics.json",
    "conda.yaml",
    "table.csv",
    "page.html",
    "model.pkl",
    "archive.tar.gz",
]


def test_get_artifact_uses_mlflow_s_content_type_per_file_type(
    client: MlflowClient, http: httpx.Client, run_id: str
) -> None:
    for name in NAMES:
        client.log_text(run_id, f"content of {name}", f"files/{name}")
    for name in NAMES:
        got = http.get("/get-artifact", params={"run_id": run_id, "path": f"files/{name}"})
        assert got.status_code == 200, got.text
        assert got.content == f"content of {name}".encode()
        # The pinned mlflow's own mapping is the reference; text has no charset. One
        # deliberate divergence: MLflow sends "MLproject" as octet-stream (its list has
        # "mlproject"); Stratus sends that YAML file as text/plain.
        expected = "text/plain" if name == "MLproject" else _guess_mime_type(name)
        assert got.headers["content-type"] == expected, name
        assert got.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert_error(
        http.get("/get-artifact", params={"run_uuid": run_id, "path": "files/none.txt"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert_error(
        http.get("/get-artifact", params={"run_id": run_id, "path": "files/../../x"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Invalid path",
    )


def _logged_model(client: MlflowClient, run_id: str) -> str:
    experiment_id = client.get_run(run_id).info.experiment_id
    model = client.create_logged_model(experiment_id, name="model", source_run_id=run_id)
    client.log_model_artifacts(model.model_id, _model_dir())
    client.finalize_logged_model(model.model_id, "READY")
    return model.model_id


def _model_dir() -> str:
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp())
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "weights.bin").write_bytes(b"\x00\x01")
    return str(folder)


def test_logged_model_artifact_browser(
    client: MlflowClient, http: httpx.Client, run_id: str
) -> None:
    model_id = _logged_model(client, run_id)
    base = f"{AJAX}/logged-models/{model_id}/artifacts"
    root = http.get(f"{base}/directories").json()
    assert root["root_uri"] == client.get_logged_model(model_id).artifact_location
    assert root["files"] == [
        {"path": "MLmodel", "is_dir": False, "file_size": 12},
        {"path": "sub", "is_dir": True},
    ]
    sub = http.get(f"{base}/directories", params={"artifact_directory_path": "sub"}).json()
    assert sub["files"] == [{"path": "sub/weights.bin", "is_dir": False, "file_size": 2}]

    got = http.get(f"{base}/files", params={"artifact_file_path": "MLmodel"})
    assert got.content == b"flavors: {}\n"
    assert got.headers["content-type"] == "text/plain"
    assert_error(http.get(f"{base}/files"), 400, "BAD_REQUEST", "artifact_file_path")
    assert_error(
        http.get(f"{base}/files", params={"artifact_file_path": "../x"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Invalid path",
    )
    assert_error(
        http.get(f"{AJAX}/logged-models/m-{'0' * 32}/artifacts/directories"),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_model_version_artifact_and_model_versions_tag(
    client: MlflowClient, http: httpx.Client, run_id: str, unique: str
) -> None:
    model_id = _logged_model(client, run_id)
    name = f"surface-model-{unique}"
    client.create_registered_model(name)
    version = client.create_model_version(name, f"models:/{model_id}", model_id=model_id)

    got = http.get(
        "/model-versions/get-artifact",
        params={"name": name, "version": version.version, "path": "MLmodel"},
    )
    assert got.status_code == 200 and got.content == b"flavors: {}\n"
    assert got.headers["content-type"] == "text/plain"
    assert_error(
        http.get(
            "/model-versions/get-artifact",
            params={"name": name, "version": version.version, "path": "../MLmodel"},
        ),
        400,
        "INVALID_PARAMETER_VALUE",
        "Invalid path",
    )

    tag = client.get_logged_model(model_id).tags["mlflow.modelVersions"]
    assert json.loads(tag) == [{"name": name, "version": 1}]


def test_mlflow_register_model_keeps_integer_versions(
    tracking_uri: str, client: MlflowClient, run_id: str, unique: str
) -> None:
    model_id = _logged_model(client, run_id)
    name = f"surface-reg-{unique}"
    mlflow.register_model(f"models:/{model_id}", name)
    linked = json.loads(client.get_logged_model(model_id).tags["mlflow.modelVersions"])
    assert {"name": name, "version": 1} in linked
    assert all(isinstance(entry["version"], int) for entry in linked)


# --- upload-artifact -----------------------------------------------------------------------


def test_ui_upload_artifact(client: MlflowClient, http: httpx.Client, run_id: str) -> None:
    done = http.post(
        f"{AJAX}/upload-artifact",
        params={"run_uuid": run_id, "path": "uploads/note.txt"},
        content=b"from the browser",
    )
    assert done.status_code == 200, done.text
    assert [f.path for f in client.list_artifacts(run_id, "uploads")] == ["uploads/note.txt"]
    assert_error(
        http.post(f"{AJAX}/upload-artifact", params={"path": "x"}, content=b"1"),
        400,
        "INVALID_PARAMETER_VALUE",
        "Request must specify run_uuid.",
    )
    assert_error(
        http.post(f"{AJAX}/upload-artifact", params={"run_uuid": run_id}, content=b"1"),
        400,
        "INVALID_PARAMETER_VALUE",
        "Request must specify path.",
    )
    assert_error(
        http.post(f"{AJAX}/upload-artifact", params={"run_uuid": run_id, "path": "e.txt"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Request must specify data.",
    )
    assert_error(
        http.post(
            f"{AJAX}/upload-artifact",
            params={"run_uuid": run_id, "path": "../e.txt"},
            content=b"1",
        ),
        400,
        "INVALID_PARAMETER_VALUE",
        "Invalid path",
    )
    too_big = http.post(
        f"{AJAX}/upload-artifact",
        params={"run_uuid": run_id, "path": "big.bin"},
        content=b"\x00" * (10 * 1024 * 1024 + 1),
    )
    assert_error(too_big, 400, "INVALID_PARAMETER_VALUE", "Artifact size is too large")
    assert {"big.bin", "e.txt"}.isdisjoint(f.path for f in client.list_artifacts(run_id))


# --- metric histories for charts ----------------------------------------------------------


def _log_steps(client: MlflowClient, run_id: str, steps: range, key: str = "loss") -> None:
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric(key, float(step), now + step, step) for step in steps])


def _points(response: httpx.Response) -> list[tuple[str, int]]:
    assert response.status_code == 200, response.text
    return [(p["run_id"], p["step"]) for p in response.json().get("metrics", [])]


def test_get_history_bulk(client: MlflowClient, http: httpx.Client, run_id: str) -> None:
    other = client.create_run(client.get_run(run_id).info.experiment_id).info.run_id
    _log_steps(client, run_id, range(3))
    _log_steps(client, other, range(2))
    url = f"{AJAX}/metrics/get-history-bulk"
    points = _points(http.get(url, params={"run_id": [run_id, other], "metric_key": "loss"}))
    assert points == sorted([(run_id, s) for s in range(3)] + [(other, s) for s in range(2)])
    limited = http.get(
        url, params={"run_id": [run_id, other], "metric_key": "loss", "max_results": 2}
    )
    assert len(limited.json()["metrics"]) == 2
    point = http.get(url, params={"run_id": run_id, "metric_key": "loss"}).json()["metrics"][0]
    assert set(point) == {"key", "value", "timestamp", "step", "run_id"}
    assert http.get(url, params={"run_id": run_id, "metric_key": "none"}).json() == {"metrics": []}

    assert_error(
        http.get(url, params={"metric_key": "loss"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "GetMetricHistoryBulk request must specify at least one run_id.",
    )
    assert_error(
        http.get(url, params={"run_id": [str(i) for i in range(101)], "metric_key": "loss"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "cannot specify more than 100 run_ids. Received 101 run_ids.",
    )
    assert_error(
        http.get(url, params={"run_id": run_id}),
        400,
        "INVALID_PARAMETER_VALUE",
        "GetMetricHistoryBulk request must specify a metric_key.",
    )


def _ntile_sample(steps: list[int], k: int) -> list[int]:
    """MLflow's sampling written out: first row of each of k NTILE buckets, plus the last."""
    n = len(steps)
    size, extra = divmod(n, k)
    starts, index = [], 0
    for bucket in range(min(k, n)):
        starts.append(index)
        index += size + (1 if bucket < extra else 0)
    sample = [steps[i] for i in starts]
    if sample and sample[-1] != steps[-1]:
        if len(sample) >= k:
            sample[-1] = steps[-1]
        else:
            sample.append(steps[-1])
    return sample


@pytest.mark.parametrize(
    ("max_results", "step_range"),
    [(3, None), (1, None), (20, None), (4, (2, 6)), (2, (2, 6)), (7, (0, 99))],
)
def test_get_history_bulk_interval_samples_as_mlflow_does(
    client: MlflowClient,
    http: httpx.Client,
    run_id: str,
    max_results: int,
    step_range: tuple[int, int] | None,
) -> None:
    _log_steps(client, run_id, range(10))
    params: dict[str, Any] = {"run_ids": run_id, "metric_key": "loss", "max_results": max_results}
    steps = list(range(10))
    if step_range:
        params.update(start_step=step_range[0], end_step=step_range[1])
        steps = [s for s in steps if step_range[0] <= s <= step_range[1]]
    got = _points(http.get(f"{AJAX}/metrics/get-history-bulk-interval", params=params))
    assert got == [(run_id, s) for s in _ntile_sample(steps, max_results)]


def test_get_history_bulk_interval_errors(
    client: MlflowClient, http: httpx.Client, run_id: str
) -> None:
    url = f"{AJAX}/metrics/get-history-bulk-interval"
    base = {"run_ids": run_id, "metric_key": "loss"}
    assert http.get(url, params={"run_ids": "0" * 32, "metric_key": "loss"}).json() == {}
    for params, message in [
        ({"metric_key": "loss"}, "Missing value for required parameter 'run_ids'."),
        ({"run_ids": run_id}, "Missing value for required parameter 'metric_key'."),
        ({**base, "max_results": 0}, "max_results must be between 1 and 2500."),
        ({**base, "max_results": 2501}, "max_results must be between 1 and 2500."),
        (
            {**base, "start_step": 1},
            "If either start step or end step are specified, both must be specified.",
        ),
        (
            {**base, "start_step": 5, "end_step": 1},
            "end_step must be greater than start_step. Found start_step=5 and end_step=1.",
        ),
        (
            {"run_ids": [str(i) for i in range(101)], "metric_key": "loss"},
            "must specify at most 100 run_ids. Received 101 run_ids.",
        ),
        ({**base, "start_step": "a", "end_step": 1}, 'Invalid value "a" for parameter'),
    ]:
        assert_error(http.get(url, params=params), 400, "INVALID_PARAMETER_VALUE", message)


# --- dataset summaries -------------------------------------------------------------------


def test_search_datasets(client: MlflowClient, http: httpx.Client, run_id: str) -> None:
    from mlflow.entities import Dataset, DatasetInput, InputTag

    experiment_id = client.get_run(run_id).info.experiment_id
    train = Dataset("train", "d1", "local", "s")
    evaluation = Dataset("eval", "d2", "local", "s")
    client.log_inputs(
        run_id,
        [
            DatasetInput(train, [InputTag("mlflow.data.context", "training")]),
            DatasetInput(evaluation, []),
        ],
    )
    got = http.post(f"{AJAX}/experiments/search-datasets", json={"experiment_ids": [experiment_id]})
    assert got.status_code == 200, got.text
    assert got.json()["dataset_summaries"] == [
        {"experiment_id": experiment_id, "name": "eval", "digest": "d2"},
        {"experiment_id": experiment_id, "name": "train", "digest": "d1", "context": "training"},
    ]
    assert_error(
        http.post(f"{AJAX}/experiments/search-datasets", json={}),
        400,
        "INVALID_PARAMETER_VALUE",
        "SearchDatasets request must specify at least one experiment_id.",
    )
    assert_error(
        http.post(
            f"{AJAX}/experiments/search-datasets",
            json={"experiment_ids": [str(i) for i in range(21)]},
        ),
        400,
        "INVALID_PARAMETER_VALUE",
        "cannot specify more than 20 experiment_ids. Received 21 experiment_ids.",
    )


# --- ids and validation wording --------------------------------------------------------------

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", f"{API}/runs/search", {"experiment_ids": [HUGE]}),
        ("GET", f"{API}/experiments/get", {"experiment_id": HUGE}),
        ("POST", f"{API}/experiments/delete", {"experiment_id": HUGE}),
        ("POST", f"{API}/runs/create", {"experiment_id": HUGE}),
        ("POST", f"{API}/logged-models/search", {"experiment_ids": [HUGE]}),
        ("POST", f"{AJAX}/experiments/search-datasets", {"experiment_ids": [HUGE]}),
        ("GET", f"{API}/model-versions/get", {"name": "m", "version": HUGE}),
        ("GET", f"{API}/model-versions/get-download-uri", {"name": "m", "version": HUGE}),
    ],
)
def test_ids_outside_int64_are_400_not_500(
    http: httpx.Client, method: str, path: str, payload: dict[str, Any]
) -> None:
    if method == "GET":
        response = http.get(path, params=payload)
    else:
        response = http.request(method, path, json=payload)
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", HUGE)


def test_ids_inside_int64_but_unknown_are_404(http: httpx.Client) -> None:
    for experiment_id in (str(2**31), str(2**63 - 1)):
        assert_error(
            http.get(f"{API}/experiments/get", params={"experiment_id": experiment_id}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
        )
        for search in ("runs/search", "logged-models/search", "experiments/search-datasets"):
            found = http.post(f"{API}/{search}", json={"experiment_ids": [experiment_id]})
            assert found.status_code == 200 and found.json() == {}, (search, found.text)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"key": "k", "value": 1, "timestamp": 1, "step": "foo"},
            "Invalid value \"foo\" for parameter 'step' supplied:  Hint: Value was of type 'str'. "
            "See the API docs for more information about request parameters.",
        ),
        (
            {"key": "k", "value": "abc", "timestamp": 1},
            "Invalid value \"abc\" for parameter 'value' supplied:  Hint: Value was of type 'str'.",
        ),
        (
            {"key": "k", "value": 1, "timestamp": [1]},
            "Invalid value [1] for parameter 'timestamp' supplied:  Hint: Value was of type "
            "'list'.",
        ),
        (
            {"key": "k", "value": 1},
            "Missing value for required parameter 'timestamp'. See the API docs",
        ),
    ],
)
def test_validation_messages_are_worded_as_mlflow_s(
    http: httpx.Client, run_id: str, body: dict[str, Any], message: str
) -> None:
    response = http.post(f"{API}/runs/log-metric", json={"run_id": run_id, **body})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", message)


def test_validation_message_for_a_non_list(http: httpx.Client, run_id: str) -> None:
    response = http.post(f"{API}/runs/log-batch", json={"run_id": run_id, "tags": 5})
    assert_error(
        response,
        400,
        "INVALID_PARAMETER_VALUE",
        "Invalid value 5 for parameter 'tags' supplied:  Hint: Value was of type 'int'.",
    )


# --- MLflow 2's runs/log-model ------------------------------------------------------------


def test_log_model_appends_to_the_run_s_model_history(
    client: MlflowClient, http: httpx.Client, run_id: str
) -> None:
    model = {
        "artifact_path": "model",
        "flavors": {"sklearn": {"sklearn_version": "1.5", "config": {"x": 1}}},
        "utc_time_created": "2026-01-01 00:00:00.000000",
        "run_id": run_id,
        "signature": {"inputs": "[]"},
    }
    for _ in range(2):
        done = http.post(
            f"{API}/runs/log-model", json={"run_id": run_id, "model_json": json.dumps(model)}
        )
        assert done.status_code == 200 and done.json() == {}
    history = json.loads(client.get_run(run_id).data.tags["mlflow.log-model.history"])
    expected = {
        "artifact_path": "model",
        "flavors": {"sklearn": {"sklearn_version": "1.5"}},
        "utc_time_created": "2026-01-01 00:00:00.000000",
        "run_id": run_id,
    }
    assert history == [expected, expected]
    assert_error(
        http.post(f"{API}/runs/log-model", json={"run_id": run_id, "model_json": "{"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Malformed model info.",
    )
    assert_error(
        http.post(f"{API}/runs/log-model", json={"run_id": run_id, "model_json": "{}"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Model json is missing mandatory fields",
    )


def test_a_param_over_the_limit_is_a_clear_400(http: httpx.Client, run_id: str) -> None:
    response = http.post(
        f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "long", "value": "x" * 8001}
    )
    assert_error(
        response, 400, "INVALID_PARAMETER_VALUE", "exceeds the maximum length of 8000 characters"
    )


def test_sampling_matches_mlflow_s_own_store(
    client: MlflowClient, http: httpx.Client, run_id: str, tmp_path: Any
) -> None:
    """The same points through MLflow's SqlAlchemyStore and through Stratus: the same samples,
    ties in step and timestamp included."""
    from mlflow.entities import Metric
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    points = [Metric("m", float(i % 7), 1000 + i // 2, i // 3) for i in range(57)]
    reference = SqlAlchemyStore(f"sqlite:///{tmp_path / 'mlflow.db'}", str(tmp_path / "art"))
    reference_run = reference.create_run("0", "u", 0, [], "r").info.run_id
    reference.log_batch(reference_run, metrics=points, params=[], tags=[])
    client.log_batch(run_id, metrics=points)
    for max_results, steps in [(1, None), (5, None), (13, None), (100, None), (4, (3, 11))]:
        expected = reference.get_metric_history_bulk_interval(
            [reference_run],
            "m",
            max_results=max_results,
            start_step=steps[0] if steps else None,
            end_step=steps[1] if steps else None,
        )
        params: dict[str, Any] = {"run_ids": run_id, "metric_key": "m", "max_results": max_results}
        if steps:
            params.update(start_step=steps[0], end_step=steps[1])
        got = http.get(f"{AJAX}/metrics/get-history-bulk-interval", params=params).json()
        assert [(p["step"], p["timestamp"], p["value"]) for p in got["metrics"]] == [
            (m.step, m.timestamp, m.value) for m in expected
        ], (max_results, steps)
