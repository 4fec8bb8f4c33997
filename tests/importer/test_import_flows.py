"""``stratus import`` end to end: real MLflow sources in, the real mlflow client reading back.

Each source is made by the unchanged mlflow client (a ``mlruns/`` folder, an
``mlflow.db`` with its artifact root); the target is the live server's store, written
either directly (the local target) or through the server's import API (``--to``).
"""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from tests.importer.compare import assert_same_history
from tests.importer.conftest import BuiltSource, stratus_import
from tests.support.server import ServerProcess

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

X = np.arange(12, dtype=float).reshape(6, 2)


def _serves_the_model(tracking_uri: str, name: str) -> None:
    """The imported alias loads, and predicts like the model that was logged (2·Σx)."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    np.testing.assert_allclose(model.predict(X), 2.0 * X.sum(axis=1))


def test_mlruns_folder_into_the_local_store(
    mlruns_source: BuiltSource, local_target: dict, server: ServerProcess, tracking_uri: str
) -> None:
    done = stratus_import(mlruns_source.spec, "--verify", **local_target)

    assert "Verified against the target: OK" in done.stdout
    # A file store's 18-digit experiment ids do not fit: the import says so, and how to choose.
    assert "does not fit" in done.stderr and "--map-experiment" in done.stderr
    assert_same_history(mlruns_source.tracking_uri, server.url, mlruns_source.manifest)
    _serves_the_model(server.url, mlruns_source.manifest["registered_model"])


def test_mlflow_database_into_a_live_server(
    sqlite_source: BuiltSource, server: ServerProcess, tmp_path, tracking_uri: str
) -> None:
    done = stratus_import(
        sqlite_source.spec, "--to", server.url, "--verify", data_dir=tmp_path / "data"
    )

    assert "Verified against the target: OK" in done.stdout
    assert_same_history(sqlite_source.tracking_uri, server.url, sqlite_source.manifest)
    _serves_the_model(server.url, sqlite_source.manifest["registered_model"])

    again = stratus_import(
        sqlite_source.spec, "--to", server.url, "--verify", data_dir=tmp_path / "data"
    )
    assert "Imported: nothing" in again.stdout
    assert "Already imported (journal): experiments 3 · runs 4 · logged models 1" in again.stdout
    assert "Verified against the target: OK" in again.stdout
    client = MlflowClient(server.url)
    for name in sqlite_source.manifest["experiments"]:
        matching = client.search_experiments(
            view_type=mlflow.entities.ViewType.ALL, filter_string=f"name = '{name}'"
        )
        assert len(matching) == 1


def test_runs_uris_and_nested_links_survive(
    sqlite_source: BuiltSource, server: ServerProcess, tmp_path, tracking_uri: str
) -> None:
    stratus_import(sqlite_source.spec, "--to", server.url, data_dir=tmp_path / "data")
    parent = sqlite_source.manifest["parent"]

    text = mlflow.artifacts.load_text(f"runs:/{parent}/notes/hello.txt")
    assert text == "hello\n"
    experiment = mlflow.get_experiment_by_name(sqlite_source.manifest["experiments"][0])
    children = MlflowClient(server.url).search_runs(
        [experiment.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent}'"
    )
    assert [r.info.run_id for r in children] == [sqlite_source.manifest["child"]]
