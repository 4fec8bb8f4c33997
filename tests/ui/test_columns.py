"""The column picker offers the keys of all the experiment's runs, asked of the server,
not only those of the runs loaded; its search runs on the server; Escape closes it."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import expect


def test_column_picker_asks_the_server_for_keys(ui, seeded):
    page = ui.page
    ui.open(f"experiments/{seeded.experiment_id}?filter=attributes.run_name%20%3D%20'diverged'")
    grid = page.get_by_role("grid")
    expect(grid.get_by_role("link", name="diverged")).to_be_visible()
    expect(page.locator(".run-count")).to_contain_text("1 run")

    button = page.get_by_role("button", name="Columns")
    button.click()
    picker = page.get_by_role("dialog", name="Choose columns")
    # Only the children log "accuracy" and only the baseline has the "owner" tag: neither
    # run is loaded, and both are offered.
    expect(picker.get_by_label("accuracy", exact=True)).to_be_visible()
    expect(picker.get_by_label("owner")).to_be_visible()
    expect(picker.get_by_label("mlflow.user")).to_have_count(0)

    picker.get_by_label("Find a key").fill("ACCU")
    expect(picker.get_by_label("owner")).to_have_count(0)
    expect(picker.get_by_label("accuracy", exact=True)).to_be_visible()
    picker.get_by_label("accuracy", exact=True).check()
    expect(grid.get_by_role("columnheader", name="accuracy", exact=True)).to_be_visible()

    picker.get_by_label("Find a key").press("Escape")
    expect(picker).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
