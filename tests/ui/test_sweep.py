"""Sweep analysis on the compare page, for a sweep logged by the real client: parallel
coordinates, scatter and box plots coloured by a metric on a continuous scale, legends that
do not list every run, and the draw time of each view measured in Chromium (budget in
docs/ui.md; asserted only against a generous ceiling, since the machine may be loaded).

The default run draws a sweep of 60 runs (past every threshold of the page: the diff table,
the chart legends); the 1,000-run sweep the budget is for is slow (CI): logging it is most
of the time."""

from __future__ import annotations

import json
import math
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.ui.conftest import SCREENSHOTS

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import expect

RUNS = 1000
#: Past the compare page's 50-run diff table and the charts' 10-run legends.
SMALL_SWEEP = 60
#: Far above the 250 ms budget of docs/ui.md: catches a view that went quadratic, not a
#: busy machine.
CEILING_MS = 5000


@pytest.fixture(scope="module", params=[SMALL_SWEEP, pytest.param(RUNS, marks=pytest.mark.slow)])
def sweep(mlflow_client, request: pytest.FixtureRequest) -> dict:
    size: int = request.param
    from mlflow.entities import Metric, Param

    experiment_id = mlflow_client.create_experiment(f"sweep-{uuid.uuid4().hex[:6]}")

    def one(i: int) -> str:
        lr = [0.1, 0.03, 0.01, 0.003, 0.001][i % 5]
        optimizer = ["adam", "sgd"][i % 2]
        depth = 10 + (i * 7) % 41
        loss = abs(math.log10(lr) + 2.5) + (0.3 if optimizer == "sgd" else 0) + depth / 200
        run = mlflow_client.create_run(experiment_id, run_name=f"trial-{i:04d}")
        mlflow_client.log_batch(
            run.info.run_id,
            params=[
                Param("lr", str(lr)),
                Param("optimizer", optimizer),
                Param("depth", str(depth)),
            ],
            metrics=[Metric("loss", loss, 0, 0), Metric("accuracy", 1 - loss / 4, 0, 0)],
        )
        return run.info.run_id

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = list(pool.map(one, range(size)))
    return {"experiment_id": experiment_id, "ids": ids, "runs": size}


def _draw_ms(page) -> float:
    return float(page.locator(".sweep").get_attribute("data-draw-ms"))


def test_sweep_views(ui, sweep):
    page = ui.page
    runs = sweep["runs"]
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "runs/get" in r.url else None)
    ui.open(f"compare?runs={','.join(sweep['ids'])}")
    expect(page.get_by_role("heading", name=f"Comparing {runs} runs")).to_be_visible()
    assert len(requests) == 1  # one request for all of them
    timings: dict[str, float] = {}

    canvas = page.locator(".sweep canvas")
    expect(page.locator(".sweep")).to_have_attribute("data-view", "parallel")
    expect(canvas).to_have_attribute(
        "aria-label", f"Parallel coordinates of {runs} runs over depth, lr, optimizer, accuracy"
    )
    timings["parallel"] = _draw_ms(page)
    # One colour bar with the colour metric's range, not a list of every run.
    legend = page.locator(".sweep-legend")
    expect(legend).to_contain_text("Colour: accuracy")
    expect(legend.locator(".sweep-bar")).to_have_count(1)
    page.locator(".sweep").scroll_into_view_if_needed()
    ui.shot("compare-sweep-parallel")

    page.get_by_label("Colour by").select_option("metric:loss")
    expect(legend).to_contain_text("Colour: loss")
    assert "sweep_color=metric%3Aloss" in page.url

    page.get_by_role("button", name="Scatter").click()
    page.get_by_label("X axis", exact=True).select_option("param:lr")
    page.get_by_label("Y axis", exact=True).select_option("metric:loss")
    expect(canvas).to_have_attribute("aria-label", f"Scatter plot of loss against lr, {runs} runs")
    timings["scatter"] = _draw_ms(page)
    page.locator(".sweep").scroll_into_view_if_needed()
    ui.shot("compare-sweep-scatter")

    page.get_by_role("button", name="Box plot").click()
    page.get_by_label("Metric", exact=True).select_option("metric:loss")
    page.get_by_label("By", exact=True).select_option("param:optimizer")
    expect(canvas).to_have_attribute("aria-label", f"Box plot of loss by optimizer, {runs} runs")
    timings["box"] = _draw_ms(page)
    page.locator(".sweep").scroll_into_view_if_needed()
    ui.shot("compare-sweep-box")

    # The view is in the address: a colleague opening it sees the same plot.
    shared = page.url
    other = page.context.new_page()
    other.goto(shared)
    expect(other.locator(".sweep canvas")).to_have_attribute(
        "aria-label", f"Box plot of loss by optimizer, {runs} runs"
    )
    other.close()

    # History charts keep their legend to the hovered values: no list of every run.
    page.locator(".chart-card").first.scroll_into_view_if_needed()
    # Up to ten history requests of 100 runs each: slow on a loaded machine, so a long wait.
    expect(page.locator(".chart-card canvas").first).to_be_visible(timeout=60_000)
    expect(page.locator(".chart-card .u-legend")).to_have_count(0)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "sweep-draw-ms.json").write_text(json.dumps({"runs": runs, **timings}))
    print(f"sweep draw times for {runs} runs (ms): {timings}")
    assert all(ms < CEILING_MS for ms in timings.values()), timings
