"""Metadata editing in the UI, each change read back through the mlflow client: rename a
run; descriptions and tags of runs, experiments, models and versions; register a logged
model from its run page (which then says what it was registered as); delete a version and
a model. With auth on, a reader sees none of these controls."""

from __future__ import annotations

import re
import uuid

import pytest

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import expect


def test_annotate_a_run_and_register_its_model(ui, mlflow_client):
    import mlflow
    from sklearn.linear_model import LogisticRegression

    suffix = uuid.uuid4().hex[:6]
    experiment_id = mlflow_client.create_experiment(f"edit-{suffix}")
    mlflow.set_tracking_uri(mlflow_client.tracking_uri)
    with mlflow.start_run(experiment_id=experiment_id, run_name="winner") as run:
        mlflow.log_metric("loss", 0.1)
        model = LogisticRegression(max_iter=20).fit([[0.0], [1.0]], [0, 1])
        mlflow.sklearn.log_model(model, name="clf")
    run_id = run.info.run_id
    page = ui.page

    ui.open(f"runs/{run_id}")
    page.get_by_role("button", name="Rename run").click()
    dialog = page.get_by_role("dialog", name="Rename run")
    dialog.get_by_label("New name").fill("winner-final")
    dialog.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", name="winner-final", exact=True)).to_be_visible()
    assert mlflow_client.get_run(run_id).info.run_name == "winner-final"

    page.get_by_role("button", name="Edit description").click()
    page.get_by_label("Description").fill("Best loss of the sweep; ship it.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Best loss of the sweep; ship it.")).to_be_visible()
    assert mlflow_client.get_run(run_id).data.tags["mlflow.note.content"] == (
        "Best loss of the sweep; ship it."
    )

    page.get_by_label("Tag key").fill("verdict")
    page.get_by_label("Tag value").fill("winner")
    page.get_by_role("button", name="Set tag").click()
    expect(page.locator(".kv tr", has_text="verdict")).to_contain_text("winner")
    assert mlflow_client.get_run(run_id).data.tags["verdict"] == "winner"
    page.get_by_role("button", name="Remove tag verdict").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(page.locator(".kv tr", has_text="verdict")).to_have_count(0)
    assert "verdict" not in mlflow_client.get_run(run_id).data.tags

    registered = page.locator(
        "section", has=page.get_by_role("heading", name="Registered versions")
    )
    expect(registered).to_contain_text("Not registered")
    name = f"edit-model-{suffix}"
    page.get_by_role("button", name="Register clf").click()
    dialog = page.get_by_role("dialog", name="Register clf")
    dialog.get_by_label("Registered model name").fill(name)
    dialog.get_by_role("button", name="Register").click()
    expect(registered.get_by_role("link", name=f"{name} version 1")).to_be_visible()
    version = mlflow_client.get_model_version(name, "1")
    assert version.run_id == run_id
    ui.shot("run-edit")

    # The model: description, tag; the version: description; then delete both.
    registered.get_by_role("link", name=f"{name} version 1").click()
    page.get_by_role("button", name="Edit description").click()
    page.get_by_label("Description").fill("First registered from the UI.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("First registered from the UI.")).to_be_visible()
    assert mlflow_client.get_model_version(name, "1").description == "First registered from the UI."
    page.get_by_label("Tag key").fill("validated")
    page.get_by_label("Tag value").fill("yes")
    page.get_by_role("button", name="Set tag").click()
    expect(page.locator(".kv tr", has_text="validated")).to_contain_text("yes")
    assert mlflow_client.get_model_version(name, "1").tags == {"validated": "yes"}

    page.get_by_role("link", name=name, exact=True).click()
    page.get_by_role("button", name="Edit description").click()
    page.get_by_label("Description").fill("Churn classifier.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Churn classifier.")).to_be_visible()
    assert mlflow_client.get_registered_model(name).description == "Churn classifier."
    page.get_by_label("Tag key").fill("team")
    page.get_by_label("Tag value").fill("retention")
    page.get_by_role("button", name="Set tag").click()
    expect(page.locator(".kv tr", has_text="team")).to_contain_text("retention")
    assert mlflow_client.get_registered_model(name).tags == {"team": "retention"}

    page.get_by_role("link", name="Version 1").first.click()
    page.get_by_role("button", name="Delete version 1").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Versions (0)")).to_be_visible()
    page.get_by_role("button", name=f"Delete model {name}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(r"#/models$"))
    assert mlflow_client.search_registered_models(f"name = '{name}'") == []


def test_experiment_description_and_tags(ui, mlflow_client):
    experiment_id = mlflow_client.create_experiment(f"edit-exp-{uuid.uuid4().hex[:6]}")
    page = ui.page
    ui.open(f"experiments/{experiment_id}")
    page.get_by_text("Description and tags").click()
    page.get_by_role("button", name="Edit description").click()
    page.get_by_label("Description").fill("Learning-rate sweep, December.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".about").get_by_text("Learning-rate sweep, December.")).to_be_visible()
    page.get_by_label("Tag key").fill("owner")
    page.get_by_label("Tag value").fill("ada")
    page.get_by_role("button", name="Set tag").click()
    expect(page.locator(".about .kv tr", has_text="owner")).to_contain_text("ada")
    tags = mlflow_client.get_experiment(experiment_id).tags
    assert tags["mlflow.note.content"] == "Learning-rate sweep, December."
    assert tags["owner"] == "ada"
