"""Selections that survive sort, filter and paging and travel in the address; a compare
page that adds and removes runs and loads them in one request; MLflow-format addresses
redirected to the matching page; the open artifact in the address."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import expect


def _fragment_query(url: str) -> dict[str, list[str]]:
    fragment = urlsplit(url).fragment
    return parse_qs(fragment.split("?", 1)[1]) if "?" in fragment else {}


def test_selection_survives_sort_and_filter_and_is_in_the_address(ui, seeded):
    page = ui.page
    ui.open(f"experiments/{seeded.experiment_id}")
    grid = page.get_by_role("grid")
    grid.get_by_label("Select baseline").check()
    grid.get_by_label("Select diverged").check()
    expect(page.get_by_role("button", name="Compare (2)")).to_be_enabled()

    grid.get_by_role("columnheader", name="Run").get_by_role("button").click()
    expect(grid.get_by_label("Select baseline")).to_be_checked()

    search = page.get_by_label("Filter runs (search grammar)")
    search.fill("attributes.run_name = 'baseline'")
    search.press("Enter")
    expect(grid.get_by_label("Select diverged")).to_have_count(0)
    expect(grid.get_by_label("Select baseline")).to_be_checked()
    # The run filtered out is still selected: the count says so.
    expect(page.get_by_role("button", name="Compare (2)")).to_be_enabled()
    selected = _fragment_query(page.url)["sel"][0].split(",")
    assert sorted(selected) == sorted([seeded.baseline_run_id, seeded.failed_run_id])

    # The address alone restores the selection, in a new tab.
    shared = page.url
    with_new = page.context.new_page()
    with_new.goto(shared)
    other = with_new.get_by_role("grid")
    expect(other.get_by_label("Select baseline")).to_be_checked()
    expect(with_new.get_by_role("button", name="Compare (2)")).to_be_enabled()
    with_new.close()

    page.get_by_role("button", name="Clear selection").click()
    expect(page.get_by_role("button", name="Compare", exact=True)).to_be_disabled()
    expect(grid.get_by_label("Select baseline")).not_to_be_checked()
    assert "sel" not in _fragment_query(page.url)


def test_compare_loads_runs_in_one_request_and_adds_and_removes(ui, seeded):
    page = ui.page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "api/2.0" in r.url else None)
    ids = [seeded.baseline_run_id, seeded.failed_run_id, *seeded.child_run_ids]
    ui.open(f"compare?runs={','.join(ids)}")
    expect(page.get_by_role("heading", name="Comparing 5 runs")).to_be_visible()
    assert len([u for u in requests if "/stratus/runs/get" in u]) == 1
    assert not [u for u in requests if "/mlflow/runs/get" in u]
    ui.shot("compare")

    page.get_by_role("button", name="Remove lr-0.1 from comparison").click()
    expect(page.get_by_role("heading", name="Comparing 4 runs")).to_be_visible()
    assert seeded.child_run_ids[0] not in page.url

    page.get_by_text("Add runs").click()
    page.get_by_label("Find runs to add").fill("lr-0.1")
    page.get_by_role("button", name="Add lr-0.1").click()
    expect(page.get_by_role("heading", name="Comparing 5 runs")).to_be_visible()
    assert seeded.child_run_ids[0] in page.url

    # Back to the runs table with this comparison selected.
    page.get_by_role("link", name="Runs", exact=True).click()
    expect(page.get_by_role("button", name="Compare (5)")).to_be_enabled()


def test_compare_names_runs_that_do_not_exist(ui, seeded):
    page = ui.page
    gone = "f" * 32
    ui.open(f"compare?runs={seeded.baseline_run_id},{gone}")
    expect(page.get_by_role("heading", name="Comparing 1 run")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(gone)


def test_mlflow_addresses_open_the_matching_page(ui, seeded):
    page = ui.page
    run = seeded.baseline_run_id
    experiment = seeded.experiment_id

    # An artifact path, as MLflow's run page has it: the file is open, and in the address.
    ui.open(f"experiments/{experiment}/runs/{run}/artifacts/config/params.yaml")
    expect(page.locator(".preview pre")).to_contain_text("optimizer: adam")
    expect(page).to_have_url(
        re.compile(rf"#/runs/{run}\?tab=artifacts&artifact=config%2Fparams\.yaml")
    )
    page.get_by_role("button", name="notes.txt").click()
    expect(page).to_have_url(re.compile(r"artifact=notes\.txt"))
    page.reload()
    expect(page.locator(".preview pre")).to_contain_text("Training finished")

    # compare-runs with MLflow's JSON lists.
    ui.open(f'compare-runs?runs=["{run}","{seeded.failed_run_id}"]&experiments=["{experiment}"]')
    expect(page.get_by_role("heading", name="Comparing 2 runs")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/compare\?runs="))

    # A metric page: one run opens its charts on that metric, several open the comparison.
    ui.open(f'metric/val_accuracy?runs=["{run}"]&experiments=["{experiment}"]')
    expect(page.locator('.chart-card[data-metric="val_accuracy"]')).to_be_visible()
    expect(page.locator('.chart-card[data-metric="loss"]')).to_be_hidden()
    ui.open(f'metric/loss?runs=["{run}","{seeded.failed_run_id}"]')
    expect(page.get_by_role("heading", name="Comparing 2 runs")).to_be_visible()
    expect(page.get_by_label("Filter metrics")).to_have_value("loss")

    # searchFilter and MLflow's sort keys on an experiment.
    ui.open(
        f"experiments/{experiment}?searchFilter=params.optimizer%20%3D%20'sgd'"
        "&orderByKey=attributes.run_name&orderByAsc=true"
    )
    expect(page.get_by_label("Filter runs (search grammar)")).to_have_value(
        "params.optimizer = 'sgd'"
    )
    expect(page.locator(".run-count")).to_contain_text("3 runs")
    expect(page).to_have_url(re.compile(r"sort=attributes\.run_name&dir=asc"))

    # Run sub-pages of MLflow's run view.
    ui.open(f"experiments/{experiment}/runs/{run}/model-metrics")
    expect(page.get_by_role("tab", name=re.compile("Charts"))).to_have_attribute(
        "aria-selected", "true"
    )
