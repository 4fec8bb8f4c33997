"""Live runs: while a run is running, the runs table and the run's charts update on their
own (polling with backoff, one request for all running runs), and stop once it ends."""

from __future__ import annotations

import re
import uuid

import pytest

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import expect

#: The first refresh comes after 3 s and backs off from there; a loaded machine is slow.
WAIT_MS = 45_000


def test_runs_table_and_charts_follow_a_running_run(ui, mlflow_client):
    experiment_id = mlflow_client.create_experiment(f"live-{uuid.uuid4().hex[:6]}")
    run_id = mlflow_client.create_run(experiment_id, run_name="training").info.run_id
    mlflow_client.log_metric(run_id, "loss", 0.9, step=0)
    page = ui.page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/stratus/runs/get" in r.url else None)

    ui.open(f"experiments/{experiment_id}")
    row = page.get_by_role("grid").get_by_role("row").filter(has_text="training")
    expect(row).to_contain_text("0.9")
    expect(page.locator(".live-note")).to_be_visible()
    mlflow_client.log_metric(run_id, "loss", 0.5, step=1)
    expect(row).to_contain_text("0.5", timeout=WAIT_MS)
    assert requests  # refreshed through the one-request endpoint

    mlflow_client.set_terminated(run_id)
    expect(row).to_contain_text("Finished", timeout=WAIT_MS)
    expect(page.locator(".live-note")).to_be_hidden()

    second = mlflow_client.create_run(experiment_id, run_name="second").info.run_id
    mlflow_client.log_metric(second, "loss", 0.8, step=0)
    ui.open(f"runs/{second}?tab=charts")
    card = page.locator('.chart-card[data-metric="loss"]')
    expect(card).to_contain_text("1 point")
    mlflow_client.log_metric(second, "loss", 0.7, step=1)
    expect(card).to_contain_text("2 points", timeout=WAIT_MS)
    mlflow_client.set_terminated(second)
    expect(page.locator(".title-row")).to_contain_text("Finished", timeout=WAIT_MS)


def test_csv_exports_and_smoothing(ui, seeded):
    import csv
    import io
    from pathlib import Path

    page = ui.page
    ui.open(f"experiments/{seeded.experiment_id}")
    expect(page.get_by_role("grid").get_by_role("link", name="baseline")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    baseline = next(r for r in rows if r["run_name"] == "baseline")
    assert baseline["run_id"] == seeded.baseline_run_id
    assert baseline["params.optimizer"] == "adam"
    assert abs(float(baseline["metrics.loss"])) < 1  # the last logged loss

    ui.open(f"runs/{seeded.baseline_run_id}?tab=charts")
    card = page.locator('.chart-card[data-metric="loss"]')
    expect(card).to_contain_text("300 points")
    with page.expect_download() as download:
        card.get_by_role("button", name="Download loss as CSV").click()
    points = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(points) == 300
    assert [p["step"] for p in points[:3]] == ["0", "1", "2"]

    page.get_by_label("Smoothing").fill("0.9")
    expect(page).to_have_url(re.compile(r"smooth=0\.9"))
    expect(card.locator("canvas")).to_be_visible()
    expect(page.locator("label.smoothing output")).to_have_text("0.90")


def test_nan_values_are_marked(ui, mlflow_client):
    experiment_id = mlflow_client.create_experiment(f"nan-{uuid.uuid4().hex[:6]}")
    run_id = mlflow_client.create_run(experiment_id).info.run_id
    for step, value in enumerate([1.0, float("nan"), 0.5, float("nan"), 0.25]):
        mlflow_client.log_metric(run_id, "loss", value, step=step)
    mlflow_client.set_terminated(run_id)
    ui.open(f"runs/{run_id}?tab=charts")
    card = ui.page.locator('.chart-card[data-metric="loss"]')
    expect(card).to_contain_text("5 points · 2 NaN")
    expect(card.locator("canvas")).to_be_visible()
    ui.shot("run-charts-nan")


def test_another_metric_as_the_x_axis(ui, seeded):
    page = ui.page
    ui.open(f"runs/{seeded.child_run_ids[1]}?tab=charts")
    card = page.locator('.chart-card[data-metric="loss"]')
    expect(card).to_contain_text("100 points")
    page.get_by_label("Metric as x axis").select_option("metric:accuracy")
    expect(page).to_have_url(re.compile(r"x=metric%3Aaccuracy"))
    expect(card.locator(".u-legend")).to_contain_text("accuracy")
    expect(card.locator("canvas")).to_be_visible()
    expect(page.get_by_role("button", name="Step")).to_have_attribute("aria-pressed", "false")
    page.reload()  # the choice is in the address
    expect(page.get_by_label("Metric as x axis")).to_have_value("metric:accuracy")
    expect(card.locator(".u-legend")).to_contain_text("accuracy")
