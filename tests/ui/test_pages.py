"""Click through every page of the UI in Chromium, against data logged by the real client.

Each step that changes something (create, rename, delete, restore, aliases, stages) is
checked again through the mlflow client, so the UI is shown to call the real API.
"""

from __future__ import annotations

import re
import uuid

import pytest

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import expect

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow


def test_experiments_list_create_rename_delete_restore(ui, seeded, mlflow_client):
    page = ui.page
    ui.open("experiments")
    expect(page.get_by_role("link", name=seeded.experiment_name)).to_be_visible()
    ui.shot("experiments")

    page.get_by_placeholder("Search experiments by name").fill(seeded.experiment_name)
    expect(page.locator("tbody tr")).to_have_count(1)

    name = f"ui-created-{uuid.uuid4().hex[:6]}"
    page.get_by_role("button", name="New experiment").click()
    dialog = page.get_by_role("dialog", name="New experiment")
    dialog.get_by_label("Name").fill(seeded.experiment_name)
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_role("alert")).to_contain_text("already exists")
    ui.errors.clear()  # the refused create is logged by the browser as a failed request
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_text("No runs in this experiment yet.")).to_be_visible()
    ui.shot("runs-empty")
    experiment_id = re.search(r"#/experiments/(\d+)", page.url).group(1)
    assert mlflow_client.get_experiment(experiment_id).name == name

    page.get_by_role("link", name="Experiments").first.click()
    renamed = f"{name}-renamed"
    page.get_by_role("button", name=f"Rename {name}").click()
    dialog = page.get_by_role("dialog", name="Rename experiment")
    dialog.get_by_label("New name").fill(renamed)
    dialog.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("link", name=renamed)).to_be_visible()
    assert mlflow_client.get_experiment(experiment_id).name == renamed

    page.get_by_role("button", name=f"Delete {renamed}").click()
    ui.shot("experiment-delete-confirm")
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("link", name=renamed)).to_have_count(0)
    assert mlflow_client.get_experiment(experiment_id).lifecycle_stage == "deleted"

    page.get_by_role("button", name="Deleted", exact=True).click()
    row = page.locator("tbody tr", has=page.get_by_role("link", name=renamed))
    ui.shot("experiments-deleted")
    row.get_by_role("button", name="Restore").click()
    expect(row).to_have_count(0)
    assert mlflow_client.get_experiment(experiment_id).lifecycle_stage == "active"


def _first_row(grid):
    return grid.locator('[role="row"][aria-rowindex="2"]')


def test_runs_table_columns_sort_filter_nesting_and_compare(ui, seeded):
    page = ui.page
    ui.open(f"experiments/{seeded.experiment_id}")
    grid = page.get_by_role("grid")
    expect(grid.get_by_role("link", name="baseline", exact=True)).to_be_visible()
    for header in ("Run", "Status", "Created", "Duration", "User", "Source", "loss", "lr"):
        expect(grid.get_by_role("columnheader", name=header, exact=True)).to_be_visible()
    failed = grid.get_by_role("row").filter(has=page.get_by_role("link", name="diverged"))
    expect(failed).to_contain_text("Failed")

    # Child runs sit under their parent, folded.
    expect(grid.get_by_role("link", name="lr-0.1", exact=True)).to_have_count(0)
    grid.get_by_role("button", name="Show 3 child runs").click()
    for child in ("lr-0.1", "lr-0.01", "lr-0.001"):
        expect(grid.get_by_role("link", name=child, exact=True)).to_be_visible()
    ui.shot("runs")

    # A tag as a column.
    page.get_by_role("button", name="Columns").click()
    page.get_by_role("dialog", name="Choose columns").get_by_label("owner").check()
    page.get_by_role("button", name="Columns").click()
    expect(grid.get_by_role("columnheader", name="owner")).to_be_visible()
    expect(grid.get_by_role("row").filter(has_text="baseline")).to_contain_text("ada")
    ui.shot("runs-columns")

    # Server-side sort on a metric: descending first, then ascending.
    grid.get_by_role("columnheader", name="loss").get_by_role("button").click()
    expect(_first_row(grid)).to_contain_text("diverged")
    grid.get_by_role("columnheader", name="loss").get_by_role("button").click()
    expect(_first_row(grid)).to_contain_text("baseline")

    # Filter with the API's grammar; children whose parent is filtered out stay visible.
    search = page.get_by_label("Filter runs (search grammar)")
    search.fill("params.optimizer = 'sgd'")
    search.press("Enter")
    expect(grid.get_by_role("link", name="lr-0.01", exact=True)).to_be_visible()
    expect(grid.get_by_role("link", name="baseline", exact=True)).to_have_count(0)
    expect(page.locator(".run-count")).to_contain_text("3 runs")

    # A bad filter: the server's message inline, no table.
    search.fill("metrics.loss >>> 1")
    search.press("Enter")
    expect(page.locator("#filter-error")).to_contain_text("Invalid")
    expect(search).to_have_attribute("aria-invalid", "true")
    ui.errors.clear()  # the 400 is logged by the browser as a failed request
    ui.shot("runs-filter-error")

    search.fill("")
    search.press("Enter")
    grid.get_by_label("Select baseline").check()
    grid.get_by_label("Select diverged").check()
    page.get_by_role("button", name="Compare (2)").click()
    expect(page.get_by_role("heading", name="Comparing 2 runs")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/compare\?runs="))


def test_run_page_overview_charts_and_artifacts(ui, seeded):
    page = ui.page
    ui.open(f"runs/{seeded.baseline_run_id}")
    expect(page.get_by_role("heading", name="baseline", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=seeded.experiment_name)).to_be_visible()
    expect(page.get_by_text("Baseline with default settings.")).to_be_visible()
    expect(page.locator(".kv tr", has_text="optimizer")).to_contain_text("adam")
    expect(page.locator(".kv tr", has_text="val_accuracy")).to_be_visible()
    expect(page.locator(".kv tr", has_text="owner")).to_contain_text("ada")
    expect(page.locator(".kv tr", has_text="mlflow.user")).to_have_count(0)
    page.get_by_label(re.compile(r"Show \d+ system tags")).check()
    expect(page.locator(".kv tr", has_text="mlflow.user")).to_have_count(1)
    datasets = page.locator("section", has=page.get_by_role("heading", name="Datasets"))
    expect(datasets).to_contain_text("iris-sample")
    expect(datasets).to_contain_text("training")
    models = page.locator("section", has=page.get_by_role("heading", name="Logged models"))
    expect(models).to_contain_text("ready")
    models.get_by_role("button", name="Browse files").click()
    models.get_by_role("button", name="MLmodel").click()
    expect(models.locator(".preview")).to_contain_text("sklearn")
    expect(page.get_by_text("No child runs")).to_be_visible()
    ui.shot("run-overview")

    page.get_by_role("tab", name=re.compile("Charts")).click()
    expect(page.locator(".chart-card")).to_have_count(2)
    expect(page.locator(".chart-card canvas")).to_have_count(2)
    expect(page.locator('.chart-card[data-metric="loss"]')).to_contain_text("300 points")
    ui.shot("run-charts")
    page.get_by_role("button", name="Wall time").click()
    expect(page.locator(".chart-card canvas")).to_have_count(2)
    expect(page).to_have_url(re.compile("x=time"))

    page.get_by_role("tab", name="Artifacts").click()
    preview = page.locator(".preview")
    page.get_by_role("button", name="notes.txt").click()
    expect(preview.locator("pre")).to_contain_text("Training finished after 20 epochs.")
    page.get_by_role("button", name="config.json").click()
    expect(preview.locator("pre")).to_contain_text('"depth": 50')
    page.get_by_role("button", name="config", exact=True).click()
    page.get_by_role("button", name="params.yaml").click()
    expect(preview.locator("pre")).to_contain_text("optimizer: adam")
    page.get_by_role("button", name="results.csv").click()
    expect(preview.locator("table tbody tr")).to_have_count(3)
    expect(preview.locator("table thead")).to_contain_text("accuracy")
    page.get_by_role("button", name="plots", exact=True).click()
    page.get_by_role("button", name="loss.png").click()
    image = preview.get_by_role("img", name="loss.png")
    expect(image).to_be_visible()
    # Waits on the image itself (a wait_for_function string is eval, which the CSP refuses).
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    download = preview.get_by_role("link", name="Download")
    href = download.get_attribute("href")
    assert href == (
        f"/api/2.0/mlflow-artifacts/artifacts/{seeded.experiment_id}/"
        f"{seeded.baseline_run_id}/artifacts/plots/loss.png"
    )
    assert page.request.get(f"{ui.base_url}{href}").body()[:4] == b"\x89PNG"
    ui.shot("run-artifacts")


def test_compare_overlays_charts_and_highlights_differences(ui, seeded):
    page = ui.page
    ui.open(f"compare?runs={','.join(seeded.child_run_ids)}")
    expect(page.get_by_role("heading", name="Comparing 3 runs")).to_be_visible()
    loss = page.locator('.chart-card[data-metric="loss"]')
    expect(loss.locator("canvas")).to_have_count(1)
    expect(loss.locator(".u-legend .u-series")).to_have_count(4)  # the x axis and 3 runs

    params = page.locator(".diff-block", has_text="Parameters")
    expect(params.locator("tr.differs", has_text="lr")).to_have_count(1)
    expect(params.locator("tr.differs", has_text="optimizer")).to_have_count(1)
    same = params.locator("tbody tr", has_text="batch_size")
    expect(same).to_have_count(1)
    expect(same).not_to_have_class(re.compile("differs"))
    ui.shot("compare")

    page.get_by_label("Only rows that differ").check()
    expect(params.locator("tbody tr", has_text="batch_size")).to_have_count(0)

    page.get_by_role("button", name="Remove lr-0.1 from comparison").click()
    expect(page.get_by_role("heading", name="Comparing 2 runs")).to_be_visible()


def test_registry_models_versions_aliases_and_stages(ui, seeded, mlflow_client):
    page = ui.page
    name = seeded.model_name
    ui.open("models")
    row = page.locator("tbody tr", has=page.get_by_role("link", name=name))
    expect(row).to_contain_text("@champion")
    expect(row).to_contain_text("Version 2")
    ui.shot("models")

    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_text("Predicts churn from usage features.")).to_be_visible()
    versions = page.locator("section", has=page.get_by_role("heading", name="Versions (2)"))
    expect(versions.locator("tbody tr")).to_have_count(2)
    expect(versions.locator("tbody tr", has_text="Version 1")).to_contain_text("@champion")
    expect(versions.locator("tbody tr", has_text="Version 2")).to_contain_text("Staging")
    ui.shot("model")

    page.get_by_label("Alias", exact=True).fill("challenger")
    page.get_by_label("Version", exact=True).select_option("2")
    page.get_by_role("button", name="Set alias").click()
    expect(versions.locator("tbody tr", has_text="Version 2")).to_contain_text("@challenger")
    assert mlflow_client.get_model_version_by_alias(name, "challenger").version == "2"

    page.get_by_label("Alias", exact=True).fill("champion")
    page.get_by_label("Version", exact=True).select_option("2")
    page.get_by_role("button", name="Set alias").click()
    expect(versions.locator("tbody tr", has_text="Version 1")).not_to_contain_text("@champion")
    assert mlflow_client.get_model_version_by_alias(name, "champion").version == "2"
    ui.shot("model-aliases-moved")

    page.get_by_role("button", name="Remove alias challenger").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(page.get_by_role("button", name="Remove alias challenger")).to_have_count(0)
    aliases = mlflow_client.get_registered_model(name).aliases
    assert "challenger" not in aliases

    versions.locator("tbody tr", has_text="Version 1").get_by_role("link").nth(1).click()
    expect(page.get_by_role("heading", name="baseline", exact=True)).to_be_visible()

    ui.open(f"models/{name}/versions/2")
    expect(page.get_by_role("heading", name="Version 2")).to_be_visible()
    stage = page.get_by_label("Stage")
    expect(stage).to_have_value("Staging")
    stage.select_option("Production")
    expect(page.get_by_text("Version 2 moved to Production")).to_be_visible()
    assert mlflow_client.get_model_version(name, "2").current_stage == "Production"
    ui.shot("model-version")


def test_links_printed_by_the_mlflow_client_open_the_run(ui, seeded):
    ui.open(f"experiments/{seeded.experiment_id}/runs/{seeded.baseline_run_id}")
    expect(ui.page.get_by_role("heading", name="baseline", exact=True)).to_be_visible()


def test_missing_things_show_clear_error_states(ui, seeded):
    page = ui.page
    ui.open(f"runs/{'0' * 32}")
    expect(page.get_by_role("alert")).to_contain_text("Not found")
    expect(page.get_by_role("alert")).to_contain_text("RESOURCE_DOES_NOT_EXIST")
    ui.shot("error-missing-run")
    ui.open("no/such/page")
    expect(page.get_by_role("alert")).to_contain_text("There is no page at /no/such/page")
    ui.errors.clear()  # the 404 is logged by the browser as a failed request


def test_a_401_opens_the_sign_in_prompt(ui, seeded):
    page = ui.page
    page.route(
        "**/api/2.0/mlflow/experiments/search",
        lambda route: route.fulfill(
            status=401,
            content_type="application/json",
            body='{"error_code": "UNAUTHENTICATED", "message": "Credentials required"}',
        ),
    )
    ui.open("experiments")
    dialog = page.get_by_role("dialog", name="Sign in to continue")
    expect(dialog).to_be_visible()
    sign_in = dialog.get_by_role("link", name="Sign in")
    expect(sign_in).to_be_focused()
    ui.shot("sign-in")
    # The server's sign-in page, told to come back here (the fragment is the page).
    with page.expect_request(lambda r: "/auth/login" in r.url) as request:
        sign_in.click()
    assert request.value.url.endswith("/auth/login?next=%2F%23%2Fexperiments")
    ui.errors.clear()


@pytest.mark.parametrize(
    "fragment",
    [
        "experiments",
        "experiment",
        "run",
        "run-charts",
        "run-artifacts",
        "compare",
        "models",
        "model",
    ],
)
def test_pages_fit_a_phone_screen(phone, seeded, fragment):
    page = phone.page
    target = {
        "experiments": "experiments",
        "experiment": f"experiments/{seeded.experiment_id}",
        "run": f"runs/{seeded.baseline_run_id}",
        "run-charts": f"runs/{seeded.baseline_run_id}?tab=charts",
        "run-artifacts": f"runs/{seeded.baseline_run_id}?tab=artifacts",
        "compare": f"compare?runs={seeded.baseline_run_id},{seeded.failed_run_id}",
        "models": "models",
        "model": f"models/{seeded.model_name}",
    }[fragment]
    phone.open(target)
    expect(page.locator(".page > *").first).to_be_visible()
    expect(page.locator(".state.loading")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    phone.shot(f"phone-{fragment}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{fragment} is {overflow}px wider than the screen"
