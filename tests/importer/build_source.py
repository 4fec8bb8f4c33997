"""Build a real MLflow history with the unchanged mlflow client, as a researcher would.

Run in a subprocess with ``MLFLOW_TRACKING_URI`` set to ``file:…/mlruns``,
``sqlite:///…/mlflow.db`` or an ``http://`` server; prints a JSON manifest of what it made.

    python -m tests.importer.build_source PREFIX [--full] [--runs N] [--points N]

``--full`` adds everything the importer must carry: nested, failed and deleted runs,
params, long metric histories with NaN and infinity, tags, a dataset input, text and
binary artifacts, a logged sklearn model, a registered model with two versions, tags,
a description and an alias, and a deleted experiment. Without it: ``--runs`` plain runs
with ``--points`` points each and an artifact, for resume tests.
"""

from __future__ import annotations

import argparse
import json
import os

import mlflow
import numpy as np
from mlflow import MlflowClient

X = np.arange(12, dtype=float).reshape(6, 2)


def _points(key: str, count: int, start: int = 1_700_000_000_000) -> list:
    from mlflow.entities import Metric

    return [Metric(key, 1.0 / (i + 1), start + i, i) for i in range(count)]


def _log_points(client: MlflowClient, run_id: str, key: str, count: int) -> None:
    points = _points(key, count)
    for offset in range(0, len(points), 1000):
        client.log_batch(run_id, metrics=points[offset : offset + 1000])


def build_full(prefix: str) -> dict:
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    client = MlflowClient()
    experiment = mlflow.set_experiment(f"{prefix}-main")
    mlflow.set_experiment_tag("team", "forecasting")
    with mlflow.start_run(run_name="parent") as parent:
        run_id = parent.info.run_id
        mlflow.log_params({"lr": 0.01, "layers": [64, 32], "note": "with spaces"})
        _log_points(client, run_id, "loss", 2500)
        mlflow.log_metric("nan_metric", float("nan"), step=1)
        mlflow.log_metric("inf_metric", float("inf"), step=2)
        mlflow.set_tags({"custom": "value", "mlflow.note.content": "a *markdown* note"})
        mlflow.log_text("hello\n", "notes/hello.txt")
        mlflow.log_dict({"a": 1}, "config/params.json")
        blob = os.urandom(300_000)
        path = os.path.join(os.environ["BUILD_DIR"], "weights.bin")
        with open(path, "wb") as handle:
            handle.write(blob)
        mlflow.log_artifact(path, "binary")
        frame = pd.DataFrame({"a": [1, 2, 3], "b": [4.0, 5.0, 6.0]})
        mlflow.log_input(mlflow.data.from_pandas(frame, name="train"), context="training")
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("acc", 0.9, step=0)
            mlflow.log_metric("acc", 0.95, step=1)
        model = LinearRegression().fit(X, 2.0 * X.sum(axis=1))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name=f"{prefix}-model",
            pip_requirements=["scikit-learn"],
        )
        mlflow.log_metric("final_rmse", 0.125, model_id=info.model_id)
    name = f"{prefix}-model"
    client.create_model_version(
        name, info.model_uri, run_id=run_id, tags={"stage": "canary"}, model_id=info.model_id
    )
    client.set_registered_model_alias(name, "champion", "2")
    client.set_registered_model_tag(name, "owner", "ml-team")
    client.update_registered_model(name, description="churn regressor")
    with mlflow.start_run(run_name="failed") as failed:
        mlflow.log_param("p", "1")
    client.set_terminated(failed.info.run_id, "FAILED")
    other = client.create_experiment(f"{prefix}-trash", tags={"gone": "yes"})
    deleted = client.create_run(other, run_name="deleted-run")
    client.log_metric(deleted.info.run_id, "m", 1.0)
    client.set_terminated(deleted.info.run_id, "KILLED")
    client.delete_run(deleted.info.run_id)
    client.delete_experiment(other)
    return {
        "experiments": [f"{prefix}-main", f"{prefix}-trash"],
        "experiment_id": experiment.experiment_id,
        "runs": [run_id, child.info.run_id, failed.info.run_id, deleted.info.run_id],
        "parent": run_id,
        "child": child.info.run_id,
        "model_id": info.model_id,
        "registered_model": name,
    }


def build_plain(prefix: str, runs: int, points: int) -> dict:
    client = MlflowClient()
    experiment_id = client.create_experiment(f"{prefix}-plain")
    run_ids = []
    for index in range(runs):
        run = client.create_run(experiment_id, run_name=f"run-{index}")
        client.log_param(run.info.run_id, "index", str(index))
        _log_points(client, run.info.run_id, "loss", points)
        client.log_text(run.info.run_id, f"run {index}\n", "out/log.txt")
        client.set_terminated(run.info.run_id)
        run_ids.append(run.info.run_id)
    return {"experiments": [f"{prefix}-plain"], "runs": run_ids}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("prefix")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--points", type=int, default=100)
    args = parser.parse_args()
    built = (
        build_full(args.prefix) if args.full else build_plain(args.prefix, args.runs, args.points)
    )
    print(json.dumps(built))


if __name__ == "__main__":
    main()
