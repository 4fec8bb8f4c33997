"""The tutorial's tracking flow through the unchanged mlflow client, every value read back."""

from __future__ import annotations

import math

import mlflow
import pytest
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException


def test_experiment_lifecycle(client, unique: str) -> None:
    name = f"exp-{unique}"
    experiment_id = client.create_experiment(name, tags={"team": "vision", "owner": "ada"})
    experiment = client.get_experiment(experiment_id)
    assert experiment.name == name
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment_id}"
    assert experiment.lifecycle_stage == "active"
    assert experiment.tags == {"team": "vision", "owner": "ada"}
    assert client.get_experiment_by_name(name).experiment_id == experiment_id
    assert client.get_experiment_by_name(f"missing-{unique}") is None

    client.set_experiment_tag(experiment_id, "stage", "dev")
    client.delete_experiment_tag(experiment_id, "owner")
    assert client.get_experiment(experiment_id).tags == {"team": "vision", "stage": "dev"}

    client.rename_experiment(experiment_id, f"{name}-renamed")
    assert client.get_experiment(experiment_id).name == f"{name}-renamed"

    with pytest.raises(MlflowException, match="RESOURCE_ALREADY_EXISTS"):
        client.create_experiment(f"{name}-renamed")

    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    deleted = client.search_experiments(
        view_type=ViewType.DELETED_ONLY, filter_string=f"name = '{name}-renamed'"
    )
    assert [e.experiment_id for e in deleted] == [experiment_id]
    client.restore_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"


def test_fluent_run_with_params_metrics_tags(tracking_uri: str, unique: str) -> None:
    mlflow.set_experiment(f"fluent-{unique}")
    with mlflow.start_run(run_name="baseline") as run:
        mlflow.log_param("learning_rate", 0.01)
        mlflow.log_params({"optimizer": "adam", "layers": [64, 32], "dropout": None})
        for step in range(10):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"accuracy": 0.91, "f1": 0.88}, step=3)
        mlflow.set_tag("team", "forecasting")
        mlflow.set_tags({"sweep": "v1", "ünïcødé": "日本語 ✓"})
        run_id = run.info.run_id

    client = mlflow.MlflowClient()
    fetched = client.get_run(run_id)
    assert fetched.info.status == "FINISHED"
    assert fetched.info.run_name == "baseline"
    assert fetched.info.end_time is not None and fetched.info.end_time >= fetched.info.start_time
    assert fetched.info.artifact_uri.endswith(f"/{run_id}/artifacts")
    assert fetched.data.params == {
        "learning_rate": "0.01",
        "optimizer": "adam",
        "layers": "[64, 32]",
        "dropout": "None",
    }
    assert fetched.data.metrics == {"loss": pytest.approx(0.1), "accuracy": 0.91, "f1": 0.88}
    assert fetched.data.tags["team"] == "forecasting"
    assert fetched.data.tags["ünïcødé"] == "日本語 ✓"
    assert fetched.data.tags["mlflow.runName"] == "baseline"

    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [
        (s, pytest.approx(1.0 / (s + 1))) for s in range(10)
    ]


def test_nested_runs_and_parent_search(tracking_uri: str, unique: str) -> None:
    experiment = mlflow.set_experiment(f"nested-{unique}")
    with mlflow.start_run(run_name="parent") as parent:
        for index in range(3):
            with mlflow.start_run(run_name=f"child-{index}", nested=True):
                mlflow.log_param("child_idx", index)
                mlflow.log_metric("final_loss", 0.5 - index * 0.1)
    children = mlflow.MlflowClient().search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
        order_by=["params.child_idx ASC"],
    )
    assert [r.info.run_name for r in children] == ["child-0", "child-1", "child-2"]


def test_failed_run_and_update(client, unique: str) -> None:
    experiment_id = client.create_experiment(f"failed-{unique}")
    run = client.create_run(experiment_id, run_name="will-fail")
    client.set_terminated(run.info.run_id, status="FAILED")
    assert client.get_run(run.info.run_id).info.status == "FAILED"
    client.update_run(run.info.run_id, name="renamed")
    fetched = client.get_run(run.info.run_id)
    assert fetched.info.run_name == "renamed"
    assert fetched.data.tags["mlflow.runName"] == "renamed"


def test_delete_and_restore_run(client, unique: str) -> None:
    experiment_id = client.create_experiment(f"trash-{unique}")
    run_id = client.create_run(experiment_id).info.run_id
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([experiment_id]) == []
    deleted = client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [run_id]
    with pytest.raises(MlflowException, match="must be in the 'active' state"):
        client.log_param(run_id, "x", "1")
    client.restore_run(run_id)
    client.log_param(run_id, "x", "1")
    assert client.get_run(run_id).data.params == {"x": "1"}


def test_log_batch_and_special_values(client, unique: str) -> None:
    experiment_id = client.create_experiment(f"batch-{unique}")
    run_id = client.create_run(experiment_id).info.run_id
    metrics = [Metric("m", float(i), 1_700_000_000_000 + i, i) for i in range(1000)]
    client.log_batch(run_id, metrics=metrics, params=[Param("p", "v")], tags=[RunTag("t", "u")])
    client.log_metric(run_id, "nan", float("nan"))
    client.log_metric(run_id, "pinf", float("inf"))
    client.log_metric(run_id, "ninf", float("-inf"))
    data = client.get_run(run_id).data
    assert data.metrics["m"] == 999.0
    assert math.isnan(data.metrics["nan"])
    assert data.metrics["pinf"] == 1.7976931348623157e308
    assert data.metrics["ninf"] == -1.7976931348623157e308
    assert len(client.get_metric_history(run_id, "m")) == 1000


def test_param_is_immutable(client, unique: str) -> None:
    run_id = client.create_run(client.create_experiment(f"params-{unique}")).info.run_id
    client.log_param(run_id, "learning_rate", "0.01")
    client.log_param(run_id, "learning_rate", "0.01")
    with pytest.raises(MlflowException, match="Changing param values is not allowed"):
        client.log_param(run_id, "learning_rate", "0.02")


def test_delete_tag(client, unique: str) -> None:
    run_id = client.create_run(client.create_experiment(f"tags-{unique}")).info.run_id
    client.set_tag(run_id, "to_delete", "x")
    client.delete_tag(run_id, "to_delete")
    assert "to_delete" not in client.get_run(run_id).data.tags
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        client.delete_tag(run_id, "to_delete")


def test_dataset_inputs(tracking_uri: str, unique: str) -> None:
    import pandas as pd

    mlflow.set_experiment(f"datasets-{unique}")
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(frame, name="toy", targets="y")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
        mlflow.log_input(dataset, context="training")
    inputs = mlflow.MlflowClient().get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset.name == "toy"
    assert inputs[0].dataset.digest == dataset.digest
    assert {t.key: t.value for t in inputs[0].tags} == {"mlflow.data.context": "training"}


def test_sklearn_autolog_params_and_metrics(tracking_uri: str, unique: str) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    mlflow.set_experiment(f"autolog-{unique}")
    mlflow.sklearn.autolog(log_models=False, log_datasets=True)
    try:
        features, labels = load_iris(return_X_y=True)
        with mlflow.start_run() as run:
            LogisticRegression(max_iter=200, C=0.5).fit(features, labels)
    finally:
        mlflow.sklearn.autolog(disable=True)
    data = mlflow.MlflowClient().get_run(run.info.run_id).data
    assert data.params["C"] == "0.5"
    assert data.params["max_iter"] == "200"
    assert 0.9 < data.metrics["training_accuracy_score"] <= 1.0
    assert data.tags["estimator_name"] == "LogisticRegression"
