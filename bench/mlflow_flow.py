"""A training script's tracking calls through the real mlflow client; prints JSON timings.

Run by the benchmark with the throwaway virtualenv's interpreter, against each server in
turn (``MLFLOW_TRACKING_URI``). Only the tracking calls are timed, not the import.
Usage: python mlflow_flow.py RUNS
"""

import json
import sys
import time
import uuid

import mlflow
from mlflow import MlflowClient

STEPS = 50


def main(runs: int) -> None:
    started = time.perf_counter()
    mlflow.set_experiment(f"bench-flow-{uuid.uuid4().hex[:8]}")
    for r in range(runs):
        with mlflow.start_run(run_name=f"flow-{r}"):
            mlflow.log_params({f"p{i}": i * r for i in range(10)})
            mlflow.set_tags({"team": "bench", "stage": "flow", "round": str(r)})
            for step in range(STEPS):
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    found = mlflow.search_runs(order_by=["metrics.loss ASC"], output_format="list")
    history = MlflowClient().get_metric_history(found[0].info.run_id, "loss")
    elapsed = time.perf_counter() - started
    if len(found) != runs or len(history) != STEPS:
        sys.exit(f"mlflow flow: {len(found)} runs and {len(history)} points read back")
    print(json.dumps({"seconds": elapsed, "runs": runs, "calls": runs * (STEPS + 4) + 3}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
