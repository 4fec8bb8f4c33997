"""Artifacts through the unchanged mlflow client, on a local root and on GCS (emulated).

Each test runs against two servers sharing one database per backend: one whose artifact
root is a local folder, one whose root is ``gs://`` on the GCS emulator.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from tests.support.server import ServerProcess


@pytest.fixture(params=["local", "gcs"])
def tracked(
    request: pytest.FixtureRequest, backend: str, monkeypatch: pytest.MonkeyPatch, unique: str
) -> ServerProcess:
    """The mlflow client pointed at a server with a local or a GCS artifact root.

    ``backend`` is named so that pytest parametrises this fixture per database.
    """
    server: ServerProcess = request.getfixturevalue(
        "server" if request.param == "local" else "gcs_server"
    )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    mlflow.set_tracking_uri(server.url)
    mlflow.set_experiment(f"artifacts-{request.param}-{unique}")
    yield server
    while mlflow.active_run():
        mlflow.end_run()


@pytest.fixture
def iris() -> tuple[np.ndarray, np.ndarray]:
    data = load_iris()
    return data.data, data.target


def make_tree(root: Path) -> dict[str, bytes]:
    files = {
        "config/params.yaml": b"lr: 0.01\n",
        "config/nested/deep.txt": b"deep",
        "bin/weights.bin": bytes(range(256)) * 1000,
        "readme.md": "# ünïcode ✓\n".encode(),
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# The files go to the artifact root, not the database: the default run checks both roots on
# SQLite, CI on every backend.
@pytest.mark.slow_except("sqlite")
def test_every_kind_of_artifact_round_trips(tracked: ServerProcess, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    source = tmp_path / "src"
    tree = make_tree(source / "data_dir")
    (source / "results.csv").write_text("epoch,acc\n0,0.5\n1,0.6\n")
    figure, axes = plt.subplots()
    axes.plot([0, 1, 2], [2, 1, 3])

    with mlflow.start_run() as run:
        mlflow.log_artifact(str(source / "results.csv"))
        mlflow.log_artifact(str(source / "results.csv"), artifact_path="copies")
        mlflow.log_artifacts(str(source / "data_dir"), artifact_path="data_dir")
        mlflow.log_text("hello, world", "notes/hello.txt")
        mlflow.log_dict({"a": 1, "b": [1, 2]}, "meta/info.json")
        mlflow.log_figure(figure, "plots/curve.png")
    plt.close(figure)
    run_id = run.info.run_id
    assert run.info.artifact_uri.startswith(f"mlflow-artifacts:/{run.info.experiment_id}/")

    client = MlflowClient()

    def listing(path: str | None = None) -> list[tuple[str, bool, int | None]]:
        return [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id, path)]

    assert listing() == [
        ("copies", True, None),
        ("data_dir", True, None),
        ("meta", True, None),
        ("notes", True, None),
        ("plots", True, None),
        ("results.csv", False, 22),
    ]
    assert listing("data_dir") == [
        ("data_dir/bin", True, None),
        ("data_dir/config", True, None),
        ("data_dir/readme.md", False, len(tree["readme.md"])),
    ]
    assert listing("data_dir/config") == [
        ("data_dir/config/nested", True, None),
        ("data_dir/config/params.yaml", False, 9),
    ]
    assert listing("data_dir/config/nested") == [("data_dir/config/nested/deep.txt", False, 4)]
    assert listing("results.csv") == []
    assert listing("no/such/dir") == []

    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/hello.txt") == "hello, world"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/meta/info.json") == {"a": 1, "b": [1, 2]}
    png = Path(client.download_artifacts(run_id, "plots/curve.png", str(tmp_path / "png")))
    assert png.read_bytes().startswith(b"\x89PNG")

    everything = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "all"))
    downloaded = read_tree(Path(everything))
    assert {k.removeprefix("data_dir/"): v for k, v in downloaded.items() if "data_dir/" in k} == (
        tree
    )
    assert len(downloaded) == len(tree) + 5
    assert downloaded["results.csv"] == downloaded["copies/results.csv"]
    assert json.loads(downloaded["meta/info.json"]) == {"a": 1, "b": [1, 2]}

    one_dir = Path(client.download_artifacts(run_id, "data_dir/config", str(tmp_path / "one")))
    assert read_tree(one_dir) == {"params.yaml": b"lr: 0.01\n", "nested/deep.txt": b"deep"}


@pytest.mark.slow
def test_sklearn_log_model_loads_through_both_uris(tracked: ServerProcess, iris) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=300).fit(X, y)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="model", input_example=X[:3])

    assert info.model_uri == f"models:/{info.model_id}"
    logged = MlflowClient().get_logged_model(info.model_id)
    assert logged.status == "READY"
    assert logged.artifact_location.endswith(f"/models/{info.model_id}/artifacts")
    model_files = {f.path for f in MlflowClient().list_logged_model_artifacts(info.model_id)}
    assert {"MLmodel", "requirements.txt"} <= model_files

    expected = model.predict(X)
    by_model_id = mlflow.pyfunc.load_model(info.model_uri)
    by_run = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(by_model_id.predict(X), expected)
    np.testing.assert_array_equal(by_run.predict(X), expected)
    np.testing.assert_array_equal(mlflow.sklearn.load_model(info.model_uri).predict(X), expected)


@pytest.mark.slow
def test_autolog_model_loads(tracked: ServerProcess, iris) -> None:
    X, y = iris
    mlflow.sklearn.autolog(log_input_examples=False, log_model_signatures=False)
    try:
        with mlflow.start_run() as run:
            model = LogisticRegression(max_iter=300).fit(X, y)
    finally:
        mlflow.sklearn.autolog(disable=True)

    (logged,) = MlflowClient().search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
    )
    assert logged.status == "READY"
    loaded = mlflow.pyfunc.load_model(f"models:/{logged.model_id}")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    by_run = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/{logged.name}")
    np.testing.assert_array_equal(by_run.predict(X), model.predict(X))


def test_deleting_a_run_keeps_its_files_until_gc(tracked: ServerProcess, tmp_path: Path) -> None:
    with mlflow.start_run() as run:
        mlflow.log_text("still here", "kept.txt")
    client = MlflowClient()
    client.delete_run(run.info.run_id)
    assert [f.path for f in client.list_artifacts(run.info.run_id)] == ["kept.txt"]
    path = client.download_artifacts(run.info.run_id, "kept.txt", str(tmp_path))
    assert Path(path).read_text() == "still here"
