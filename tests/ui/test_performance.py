"""Structural performance checks (nothing is timed): the runs page of a 10,000-run
experiment fetches one page at a time as the user scrolls and keeps only visible rows in
the DOM; a 1M-point metric reaches the browser as a few thousand points.

Seeding at this volume writes the rows straight into the server's SQLite database (the
API would take minutes); everything the UI shows still comes through the API.
"""

from __future__ import annotations

import json
import math
import uuid

import httpx
import pytest
import sqlalchemy as sa

from service.store.tables import LatestMetric, Metric, Param, Run

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import expect

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

RUNS = 10_000
POINTS = 1_000_000
PAGE_SIZE = 200  # runs.js PAGE_SIZE
T0 = 1_700_000_000_000
SAMPLED = "/ajax-api/2.0/stratus/metrics/history-sampled"


def _insert(conn, table, rows, chunk=20_000):
    for i in range(0, len(rows), chunk):
        conn.execute(sa.insert(table.__table__), rows[i : i + chunk])


@pytest.fixture(scope="module")
def volume(ui_server, mlflow_client):
    experiment_id = mlflow_client.create_experiment(f"ten-thousand-{uuid.uuid4().hex[:6]}")
    experiment = mlflow_client.get_experiment(experiment_id)
    long_run = mlflow_client.create_run(experiment_id, run_name="million").info.run_id
    runs = []
    for i in range(RUNS):
        run_id = uuid.uuid4().hex
        runs.append(
            {
                "run_uuid": run_id,
                "experiment_id": int(experiment_id),
                "name": f"run-{i:05d}",
                "user_id": "bench",
                "status": "FINISHED",
                "start_time": T0 + i * 1000,
                "end_time": T0 + i * 1000 + 500,
                "lifecycle_stage": "active",
                "artifact_uri": f"{experiment.artifact_location}/{run_id}/artifacts",
            }
        )
    points = [
        {
            "run_uuid": long_run,
            "key": "loss",
            "step": step,
            "timestamp": T0 + step,
            "value": math.exp(-step / 200_000) + 0.01 * math.sin(step),
            "is_nan": False,
        }
        for step in range(POINTS)
    ]
    engine = sa.create_engine(ui_server.database_url)
    with engine.begin() as conn:
        _insert(conn, Run, runs)
        _insert(
            conn, Param, [{"run_uuid": r["run_uuid"], "key": "lr", "value": "0.01"} for r in runs]
        )
        latest = [
            {
                "run_uuid": r["run_uuid"],
                "key": "loss",
                "step": 0,
                "timestamp": T0,
                "value": i / RUNS,
            }
            for i, r in enumerate(runs)
        ]
        _insert(conn, LatestMetric, latest)
        _insert(conn, Metric, points, chunk=50_000)
        _insert(conn, LatestMetric, [{**points[-1], "run_uuid": long_run}])
    engine.dispose()
    return {"experiment_id": experiment_id, "long_run": long_run}


def test_runs_page_loads_one_page_at_a_time_and_renders_only_visible_rows(ui, volume):
    page = ui.page
    searches, in_flight, peak = [], [0], [0]

    def started(request):
        if request.url.endswith("/runs/search"):
            searches.append(request)
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])

    def ended(request):
        if request.url.endswith("/runs/search"):
            in_flight[0] -= 1

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    ui.open(f"experiments/{volume['experiment_id']}")
    status = page.locator(".run-count")
    expect(status).to_contain_text(f"{PAGE_SIZE} runs loaded")
    page.wait_for_load_state("networkidle")
    assert len(searches) == 1
    first = json.loads(searches[0].post_data)
    assert first["max_results"] == PAGE_SIZE and "page_token" not in first
    assert page.locator(".vgrid-row").count() <= 60
    ui.shot("runs-10k")

    grid = page.locator(".vgrid")
    for pages in range(2, 6):
        grid.evaluate("el => { el.scrollTop = el.scrollHeight; }")
        expect(status).to_contain_text(f"{pages * PAGE_SIZE:,} runs loaded")
        page.wait_for_load_state("networkidle")
        assert len(searches) == pages
        token = searches[-2].response().json()["next_page_token"]
        assert json.loads(searches[-1].post_data)["page_token"] == token
        assert page.locator(".vgrid-row").count() <= 60
    assert peak[0] == 1
    # The rows of the last page are drawn after its answer: wait for them, not for time.
    expect(grid.locator(".vgrid-row").first).to_be_attached()
    shown = grid.locator(".vgrid-row").evaluate_all(
        "rows => rows.map((row) => Number(row.getAttribute('aria-rowindex')))"
    )
    assert min(shown) > 3 * PAGE_SIZE  # the rows in view, not the first ones
    ui.shot("runs-10k-scrolled")


def test_a_million_point_metric_reaches_the_browser_downsampled(ui, ui_server, volume):
    response = httpx.get(
        f"{ui_server.url}{SAMPLED}",
        params={"run_id": volume["long_run"], "metric_key": "loss", "max_points": 2000},
        timeout=60,
    )
    [series] = response.json()["series"]
    assert series["point_count"] == POINTS and series["downsampled"]
    assert len(series["x"]) <= 2000
    assert len(response.content) < 100_000
    assert series["x"][0] == 0 and series["x"][-1] == POINTS - 1

    page = ui.page
    with page.expect_response(lambda r: SAMPLED in r.url) as first:
        ui.open(f"runs/{volume['long_run']}?tab=charts")
    body = first.value.json()["series"][0]
    assert body["point_count"] == POINTS
    assert len(body["x"]) <= 4000
    card = page.locator('.chart-card[data-metric="loss"]')
    expect(card).to_contain_text("1,000,000 points")
    expect(card.locator("canvas")).to_have_count(1)
    ui.shot("run-chart-1m")

    # Dragging across the chart fetches just that window again.
    box = card.locator(".u-over").bounding_box()
    with page.expect_response(lambda r: SAMPLED in r.url and "x_min" in r.url) as zoomed:
        page.mouse.move(box["x"] + box["width"] * 0.40, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()
    window = zoomed.value.json()["series"][0]
    assert 0 < window["point_count"] < POINTS
    assert len(window["x"]) <= 4000
    assert POINTS * 0.3 < window["x"][0] < window["x"][-1] < POINTS * 0.6
    expect(card).to_contain_text("zoomed")
    ui.shot("run-chart-1m-zoomed")
