"""The registry workflow through the unchanged mlflow client: register, version, alias, load."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import mlflow
import numpy as np
import pytest
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LinearRegression

X = np.arange(12, dtype=float).reshape(6, 2)


def _regressor(scale: float) -> LinearRegression:
    """A model whose predictions tell which version was loaded (``scale * (x0 + x1)``)."""
    return LinearRegression().fit(X, scale * X.sum(axis=1))


def _log(name: str | None, scale: float, artifact: str = "model") -> mlflow.models.ModelInfo:
    with mlflow.start_run():
        return mlflow.sklearn.log_model(
            _regressor(scale),
            name=artifact,
            registered_model_name=name,
            pip_requirements=["scikit-learn"],  # skip the slow dependency inference
        )


@pytest.fixture
def experiment(tracking_uri: str, unique: str) -> str:
    return mlflow.set_experiment(f"registry-{unique}").experiment_id


def test_log_model_registers_new_versions(client, experiment: str, unique: str) -> None:
    name = f"churn-{unique}"
    first = _log(name, 1.0)
    second = _log(name, 2.0)  # the model exists: a second version, not an error
    assert (first.registered_model_version, second.registered_model_version) == ("1", "2")

    v1 = client.get_model_version(name, "1")
    assert v1.source == first.model_uri and v1.current_stage == "None" and v1.status == "READY"
    assert v1.run_id == first.run_id  # filled in from the logged model
    logged = client.get_logged_model(first.model_id)
    assert client.get_model_version_download_uri(name, "1") == logged.artifact_location
    assert logged.artifact_location.endswith(f"/models/{first.model_id}/artifacts")

    by_run = client.search_model_versions(f"run_id = '{second.run_id}'")
    assert [(v.name, v.version) for v in by_run] == [(name, "2")]
    assert [v.version for v in client.get_registered_model(name).latest_versions] == ["2"]


def test_register_model_from_model_and_runs_uris(client, experiment: str, unique: str) -> None:
    info = _log(None, 3.0)
    by_model = mlflow.register_model(info.model_uri, f"a-{unique}", tags={"origin": "model"})
    by_run = mlflow.register_model(f"runs:/{info.run_id}/model", f"b-{unique}")
    for version in (by_model, by_run):
        assert version.version == "1" and version.run_id == info.run_id
        uri = client.get_model_version_download_uri(version.name, version.version)
        assert uri == client.get_logged_model(info.model_id).artifact_location
    assert client.get_model_version(f"a-{unique}", "1").tags == {"origin": "model"}


def test_aliases_load_the_version_they_name(client, experiment: str, unique: str) -> None:
    name = f"forecast-{unique}"
    _log(name, 1.0)
    _log(name, 10.0)
    expected = {1: X.sum(axis=1), 2: 10 * X.sum(axis=1)}

    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "challenger", "2")
    by_alias = mlflow.pyfunc.load_model(f"models:/{name}@champion").predict(X)
    by_version = mlflow.pyfunc.load_model(f"models:/{name}/1").predict(X)
    np.testing.assert_allclose(by_alias, expected[1])
    np.testing.assert_allclose(by_version, by_alias)

    client.set_registered_model_alias(name, "champion", "2")  # promote: the alias moves
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    assert client.get_model_version(name, "2").aliases == ["challenger", "champion"]
    assert client.get_model_version(name, "1").aliases == []
    assert client.get_registered_model(name).aliases == {"champion": "2", "challenger": "2"}
    np.testing.assert_allclose(
        mlflow.sklearn.load_model(f"models:/{name}@champion").predict(X), expected[2]
    )

    client.delete_registered_model_alias(name, "challenger")
    with pytest.raises(MlflowException, match="alias challenger not found") as err:
        client.get_model_version_by_alias(name, "challenger")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_with_filters_order_and_pages(client, experiment: str, unique: str) -> None:
    names = [f"search-{unique}-{i}" for i in range(5)]
    for i, name in enumerate(names):
        client.create_registered_model(name, tags={"parity": "even" if i % 2 == 0 else "odd"})
    prefix = f"name LIKE 'search-{unique}-%'"

    found = client.search_registered_models(prefix, order_by=["name DESC"])
    assert [m.name for m in found] == names[::-1]
    even = client.search_registered_models(f"{prefix} AND tags.parity = 'even'")
    assert [m.name for m in even] == [names[0], names[2], names[4]]
    assert [m.name for m in client.search_registered_models(f"name = '{names[3]}'")] == [names[3]]

    pages, token = [], None
    while True:
        page = client.search_registered_models(prefix, max_results=2, page_token=token)
        pages.append([m.name for m in page])
        token = page.token
        if not token:
            break
    assert pages == [names[:2], names[2:4], names[4:]]

    for _ in range(3):
        client.create_model_version(names[0], "mlflow-artifacts:/0/a/artifacts/model")
    versions = client.search_model_versions(
        f"name = '{names[0]}' AND version_number >= 2", order_by=["version_number ASC"]
    )
    assert [v.version for v in versions] == ["2", "3"]
    first = client.search_model_versions(f"name = '{names[0]}'", max_results=2)
    assert [v.version for v in first] == ["3", "2"] and first.token
    rest = client.search_model_versions(
        f"name = '{names[0]}'", max_results=2, page_token=first.token
    )
    assert [v.version for v in rest] == ["1"] and not rest.token


def test_tags_descriptions_and_stages(client, experiment: str, unique: str) -> None:
    name = f"staged-{unique}"
    for scale in (1.0, 2.0, 3.0):
        _log(name, scale)

    client.set_registered_model_tag(name, "task", "regression")
    client.set_registered_model_tag(name, "tmp", "x")
    client.delete_registered_model_tag(name, "tmp")
    client.update_registered_model(name, description="Demand forecast")
    model = client.get_registered_model(name)
    assert model.tags == {"task": "regression"} and model.description == "Demand forecast"

    client.set_model_version_tag(name, "1", "validated", "true")
    client.set_model_version_tag(name, "1", "tmp", "x")
    client.delete_model_version_tag(name, "1", "tmp")
    client.update_model_version(name, "1", description="first cut")
    v1 = client.get_model_version(name, "1")
    assert v1.tags == {"validated": "true"} and v1.description == "first cut"

    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "staging")
    assert [(v.version, v.current_stage) for v in client.get_latest_versions(name)] == [
        ("1", "Production"),
        ("2", "Staging"),
        ("3", "None"),
    ]
    promoted = client.transition_model_version_stage(
        name, "3", "Production", archive_existing_versions=True
    )
    assert promoted.current_stage == "Production"
    assert client.get_model_version(name, "1").current_stage == "Archived"
    assert [v.version for v in client.get_latest_versions(name, ["Production"])] == ["3"]
    np.testing.assert_allclose(
        mlflow.pyfunc.load_model(f"models:/{name}/Production").predict(X), 3 * X.sum(axis=1)
    )


def test_rename_and_deletes(client, experiment: str, unique: str) -> None:
    name = f"old-{unique}"
    _log(name, 1.0)
    _log(name, 2.0)
    client.set_registered_model_alias(name, "prod", "1")

    client.rename_registered_model(name, f"new-{unique}")
    assert [v.name for v in client.get_registered_model(f"new-{unique}").latest_versions] == [
        f"new-{unique}"
    ]
    np.testing.assert_allclose(
        mlflow.pyfunc.load_model(f"models:/new-{unique}@prod").predict(X), X.sum(axis=1)
    )
    with pytest.raises(MlflowException) as err:
        client.get_registered_model(name)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    client.delete_model_version(f"new-{unique}", "1")
    assert [v.version for v in client.search_model_versions(f"name = 'new-{unique}'")] == ["2"]
    assert client.get_registered_model(f"new-{unique}").aliases == {}  # went with version 1

    client.delete_registered_model(f"new-{unique}")
    assert client.search_model_versions(f"name = 'new-{unique}'") == []
    with pytest.raises(MlflowException) as err:
        client.get_model_version(f"new-{unique}", "2")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_deleting_the_run_keeps_its_versions_working(client, experiment: str, unique: str) -> None:
    name = f"orphan-{unique}"
    info = _log(name, 4.0)
    client.delete_run(info.run_id)
    version = client.get_model_version(name, "1")
    assert version.run_id == info.run_id  # still recorded; the files belong to the logged model
    np.testing.assert_allclose(
        mlflow.pyfunc.load_model(f"models:/{name}/1").predict(X), 4 * X.sum(axis=1)
    )


def test_error_cases(client, experiment: str, unique: str) -> None:
    name = f"errors-{unique}"
    client.create_registered_model(name)
    cases = [
        (lambda: client.create_registered_model(name), "RESOURCE_ALREADY_EXISTS"),
        (lambda: client.get_registered_model(f"missing-{unique}"), "RESOURCE_DOES_NOT_EXIST"),
        (lambda: client.get_model_version(name, "7"), "RESOURCE_DOES_NOT_EXIST"),
        (
            lambda: client.create_model_version(f"missing-{unique}", "s3://b/m"),
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (lambda: client.get_model_version_by_alias(name, "nope"), "INVALID_PARAMETER_VALUE"),
        (lambda: client.set_registered_model_alias(name, "latest", "1"), "INVALID_PARAMETER_VALUE"),
        (lambda: client.search_registered_models("name >>> 'x'"), "INVALID_PARAMETER_VALUE"),
        (lambda: client.rename_registered_model(name, "a/b"), "INVALID_PARAMETER_VALUE"),
    ]
    for call, code in cases:
        with pytest.raises(MlflowException) as err:
            call()
        assert err.value.error_code == code


def test_concurrent_registrations_get_distinct_versions(
    client, experiment: str, unique: str
) -> None:
    name = f"race-{unique}"
    client.create_registered_model(name)
    workers = 6
    barrier = threading.Barrier(workers)

    def register(i: int) -> str:
        barrier.wait()
        return mlflow.MlflowClient().create_model_version(name, f"s3://bucket/m{i}").version

    with ThreadPoolExecutor(workers) as pool:
        versions = list(pool.map(register, range(workers)))
    assert sorted(versions, key=int) == [str(i) for i in range(1, workers + 1)]
