"""Seed a workspace for the UI through the real mlflow client, as a researcher would.

One experiment holds a parent run with three nested children (a small sweep), a fully
loaded "baseline" run (params, metric histories, tags, a dataset, artifacts of every
previewable kind, a logged and registered sklearn model) and a failed run. The registry
gets two versions of that model, an alias and a stage.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Seeded:
    experiment_id: str
    experiment_name: str
    parent_run_id: str
    child_run_ids: list[str]
    baseline_run_id: str
    failed_run_id: str
    model_name: str
    extra: dict[str, str] = field(default_factory=dict)


def png_bytes() -> bytes:
    """A small line plot, as researchers log with ``mlflow.log_figure``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2.5), dpi=80)
    xs = list(range(50))
    ax.plot(xs, [math.exp(-x / 15) for x in xs])
    ax.set_title("loss")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def seed_workspace(tracking_uri: str, suffix: str, workdir: Path) -> Seeded:
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    name = f"image-classifier-{suffix}"
    experiment_id = client.create_experiment(
        name,
        tags={
            "mlflow.note.content": "ResNet sweeps on the team's image benchmark.",
            "team": "vision",
        },
    )
    mlflow.set_experiment(experiment_id=experiment_id)

    with mlflow.start_run(run_name="lr-sweep") as parent:
        mlflow.set_tag("sweep", "lr")
        children = []
        for i, lr in enumerate((0.1, 0.01, 0.001)):
            with mlflow.start_run(run_name=f"lr-{lr}", nested=True) as child:
                mlflow.log_params({"lr": lr, "optimizer": "sgd" if i else "adam", "batch_size": 64})
                mlflow.set_tag("sweep", "lr")
                for step in range(0, 200, 2):
                    mlflow.log_metrics(
                        {
                            "loss": math.exp(-step * lr * 0.5) + 0.05 * i,
                            "accuracy": 1 - math.exp(-step * lr * 0.4) * 0.9 - 0.02 * i,
                        },
                        step=step,
                    )
                children.append(child.info.run_id)

    with mlflow.start_run(
        run_name="baseline", description="Baseline with default settings."
    ) as run:
        mlflow.log_params({"lr": 0.01, "optimizer": "adam", "batch_size": 32, "epochs": 20})
        mlflow.set_tags({"stage": "baseline", "owner": "ada"})
        for step in range(300):
            mlflow.log_metric("loss", math.exp(-step / 60) + 0.02 * math.sin(step), step=step)
            if step % 10 == 0:
                mlflow.log_metric("val_accuracy", 1 - math.exp(-step / 80) * 0.8, step=step)
        frame = pd.DataFrame({"sepal_length": [5.1, 4.9, 6.3], "label": [0, 0, 1]})
        mlflow.log_input(mlflow.data.from_pandas(frame, name="iris-sample"), context="training")
        mlflow.log_text("Training finished after 20 epochs.\nNo warnings.\n", "notes.txt")
        mlflow.log_dict({"model": {"depth": 50, "dropout": 0.1}, "seed": 7}, "config.json")
        mlflow.log_dict(
            {"optimizer": "adam", "schedule": ["warmup", "cosine"]}, "config/params.yaml"
        )
        mlflow.log_text(
            "epoch,loss,accuracy\n1,0.91,0.52\n2,0.55,0.71\n3,0.41,0.80\n", "results.csv"
        )
        figure = workdir / "loss.png"
        figure.write_bytes(png_bytes())
        mlflow.log_artifact(str(figure), "plots")
        model = LogisticRegression(max_iter=50).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        model_name = f"churn-model-{suffix}"
        mlflow.sklearn.log_model(model, name="model", registered_model_name=model_name)
    baseline = run.info.run_id

    with mlflow.start_run(run_name="diverged") as failed:
        mlflow.log_params({"lr": 1.0, "optimizer": "sgd", "batch_size": 64})
        mlflow.log_metric("loss", 12.5, step=0)
    client.set_terminated(failed.info.run_id, status="FAILED")

    second = client.create_model_version(model_name, f"runs:/{baseline}/model", run_id=baseline)
    client.set_registered_model_alias(model_name, "champion", "1")
    client.transition_model_version_stage(model_name, second.version, "Staging")
    client.update_registered_model(model_name, description="Predicts churn from usage features.")
    client.set_registered_model_tag(model_name, "domain", "retention")
    client.set_model_version_tag(model_name, "1", "validated", "true")

    return Seeded(
        experiment_id=experiment_id,
        experiment_name=name,
        parent_run_id=parent.info.run_id,
        child_run_ids=children,
        baseline_run_id=baseline,
        failed_run_id=failed.info.run_id,
        model_name=model_name,
    )
