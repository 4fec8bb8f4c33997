"""Keyboard use and accessibility, to the WAI-ARIA patterns: focus stays on a sort header
after Enter; arrow keys move through the runs grid, across the 200-run page boundary;
dialogs trap focus; tabs move with arrow keys and name their panel; a skip link; and an
automated axe-core audit (the npm package, loaded from node_modules) of every page. The span
tree's keys are in test_traces.py."""

from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.server import REPO_ROOT
from tests.ui.conftest import SCREENSHOTS

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import expect

AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def many_runs(mlflow_client) -> str:
    """An experiment with 210 runs: more than one page of the runs table."""
    experiment_id = mlflow_client.create_experiment(f"keyboard-{uuid.uuid4().hex[:6]}")
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(
            pool.map(
                lambda i: mlflow_client.create_run(experiment_id, run_name=f"k-{i:03d}"), range(210)
            )
        )
    return experiment_id


def test_sort_header_keeps_focus_and_arrows_move_through_the_grid(ui, seeded):
    page = ui.page
    ui.open(f"experiments/{seeded.experiment_id}")
    grid = page.get_by_role("grid")
    expect(grid.get_by_role("link", name="baseline", exact=True)).to_be_visible()

    sort = grid.get_by_role("columnheader", name="Run", exact=True).get_by_role("button")
    sort.focus()
    page.keyboard.press("Enter")
    expect(grid.get_by_role("columnheader", name="Run", exact=True)).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(sort).to_be_focused()
    page.keyboard.press("Enter")
    expect(grid.get_by_role("columnheader", name="Run", exact=True)).to_have_attribute(
        "aria-sort", "ascending"
    )
    expect(sort).to_be_focused()

    # Down into the first row's name, right to its status, and back.
    page.keyboard.press("ArrowDown")
    first = grid.locator('[role="row"][aria-rowindex="2"]')
    expect(first.locator("a.run-link")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(first.get_by_role("gridcell").nth(2)).to_be_focused()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(first.get_by_role("checkbox")).to_be_focused()
    page.keyboard.press("Space")
    expect(first.get_by_role("checkbox")).to_be_checked()
    # One tab stop: Tab leaves the grid.
    tab_stops = grid.locator('[tabindex="0"]')
    expect(tab_stops).to_have_count(1)


def test_arrow_down_crosses_the_page_boundary(ui, many_runs):
    page = ui.page
    ui.open(f"experiments/{many_runs}?sort=attributes.run_name&dir=asc")
    grid = page.get_by_role("grid")
    expect(page.locator(".run-count")).to_contain_text("200 runs loaded")
    grid.get_by_role("columnheader", name="Run", exact=True).get_by_role("button").focus()
    focused_row = grid.locator('[role="row"]:focus-within')
    page.keyboard.press("Control+End")  # the last cell of the last loaded run, k-199
    expect(focused_row).to_have_attribute("aria-rowindex", "201")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    expect(grid.get_by_role("link", name="k-199")).to_be_focused()
    page.keyboard.press("ArrowDown")  # past the first page: waits for the next one
    expect(grid.get_by_role("link", name="k-200")).to_be_focused()
    expect(page.locator(".run-count")).to_contain_text("210 runs")
    page.keyboard.press("PageUp")
    expect(page.locator(":focus")).to_have_text(re.compile(r"k-1\d\d"))


def test_dialogs_trap_focus_and_tabs_use_arrow_keys(ui, seeded):
    page = ui.page
    ui.open("experiments")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#app")).to_be_focused()

    page.get_by_role("button", name="New experiment").click()
    dialog = page.get_by_role("dialog", name="New experiment")
    expect(dialog.get_by_label("Name")).to_be_focused()
    for _ in range(5):
        page.keyboard.press("Tab")
        expect(dialog.locator(":focus")).to_have_count(1)
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
        expect(dialog.locator(":focus")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    ui.open(f"runs/{seeded.baseline_run_id}")
    overview = page.get_by_role("tab", name="Overview")
    expect(overview).to_have_attribute("aria-controls", "run-tabpanel")
    overview.focus()
    page.keyboard.press("ArrowRight")
    charts = page.get_by_role("tab", name=re.compile("Charts"))
    expect(charts).to_be_focused()
    expect(charts).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel")).to_have_attribute("aria-labelledby", "tab-charts")
    page.keyboard.press("End")
    expect(page.get_by_role("tab", name="Artifacts")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(overview).to_be_focused()
    expect(overview).to_have_attribute("tabindex", "0")


def _audit(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}))"""
    )


@pytest.fixture(scope="module")
def traced(ui_server):
    from tests.ui.trace_seed import seed_traces

    return seed_traces(ui_server.url, uuid.uuid4().hex[:6])


def test_axe_finds_no_violations(new_tab, ui_server, seeded, traced):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: scripts/setup-dev.sh (npm ci) installs it")
    pages = {
        "experiments": ("experiments", 'role=link[name="' + seeded.experiment_name + '"]'),
        "runs": (f"experiments/{seeded.experiment_id}", "role=link[name=baseline]"),
        "run": (f"runs/{seeded.baseline_run_id}", "text=Baseline with default settings."),
        "run charts": (f"runs/{seeded.baseline_run_id}?tab=charts", ".chart-card canvas"),
        "run artifacts": (
            f"runs/{seeded.baseline_run_id}?tab=artifacts&artifact=results.csv",
            ".preview table",
        ),
        "compare": (
            f"compare?runs={seeded.baseline_run_id},{seeded.failed_run_id}",
            ".sweep canvas",
        ),
        "models": ("models", f'role=link[name="{seeded.model_name}"]'),
        "model": (f"models/{seeded.model_name}", "text=Versions (2)"),
        "version": (f"models/{seeded.model_name}/versions/1", "role=heading[name='Version 1']"),
        "tokens": ("tokens", "text=Authentication is off"),
        "traces": (f"experiments/{traced.experiment_id}/traces", "role=link[name=answer]"),
        "trace": (f"traces/{traced.chat_trace_id}", "role=treeitem[selected=true]"),
        "error trace": (f"traces/{traced.error_trace_id}", "role=treeitem[selected=true]"),
    }
    found = {}
    with new_tab(ui_server.url, bypass_csp=True) as ui:
        for name, (fragment, ready) in pages.items():
            ui.open(fragment)
            expect(ui.page.locator(ready).first).to_be_visible()
            violations = _audit(ui.page)
            if violations:
                found[name] = violations
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "axe-violations.json").write_text(json.dumps(found, indent=1))
    assert found == {}, json.dumps(found, indent=1)
