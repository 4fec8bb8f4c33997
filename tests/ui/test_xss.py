"""User-controlled text reaches the page as text, never as markup or script.

Payloads go in through the real mlflow client wherever researchers type free text: the
experiment name and description, run names, descriptions, params, tags, dataset names,
artifact names and contents, registered model names, descriptions and tags. Each page is
then opened with the Content-Security-Policy *bypassed*, so what is tested is the
rendering itself; the policy is a second line of defence, checked in test_shell.py.
"""

from __future__ import annotations

import json
import uuid

import pytest

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import expect

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

SCRIPT = "<script>window.__xss = 'script'</script>"
IMG = '"><img src=x onerror="window.__xss = \'img\'">'
BOTH = f"{SCRIPT}{IMG}"


@pytest.fixture(scope="module")
def hostile(ui_server, tmp_path_factory):
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(ui_server.url)
    client = MlflowClient(ui_server.url)
    suffix = uuid.uuid4().hex[:6]
    experiment_name = f"xss-{suffix} {IMG}"
    experiment_id = client.create_experiment(
        experiment_name, tags={"mlflow.note.content": f"experiment description {BOTH}"}
    )
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"run {IMG}", description=f"run description {BOTH}"
    ) as run:
        mlflow.log_param("payload", f"param {BOTH}")
        mlflow.set_tag("payload", f"tag {BOTH}")
        mlflow.log_metric("loss", 0.5, step=1)
        frame = pd.DataFrame({"x": [1]})
        mlflow.log_input(mlflow.data.from_pandas(frame, name=f"dataset {IMG}"), context="training")
        folder = tmp_path_factory.mktemp("hostile")
        hostile_file = folder / 'file "><img src=x onerror="window.__xss=1">.txt'
        hostile_file.write_text(f"artifact text {BOTH}")
        mlflow.log_artifact(str(hostile_file))
        mlflow.log_text(json.dumps({"key": f"json {BOTH}"}), "data.json")
        mlflow.log_text(f"col\n{IMG}\n", "table.csv")
    with mlflow.start_run(experiment_id=experiment_id, run_name="plain") as other:
        mlflow.log_param("payload", "plain")

    model = f"xss-model-{suffix} {IMG}"
    client.create_registered_model(model, description=f"model description {BOTH}")
    client.set_registered_model_tag(model, "payload", f"model tag {BOTH}")
    client.create_model_version(
        model,
        f"runs:/{run.info.run_id}/model",
        run_id=run.info.run_id,
        description=f"version description {BOTH}",
    )
    return {
        "experiment_id": experiment_id,
        "experiment_name": experiment_name,
        "run_id": run.info.run_id,
        "other_run_id": other.info.run_id,
        "model": model,
        "file": hostile_file.name,
    }


def assert_inert(ui, *texts: str) -> None:
    """Nothing ran, nothing was parsed into elements, and the payloads read as text."""
    page = ui.page
    page.wait_for_load_state("networkidle")
    expect(page.locator(".state.loading")).to_have_count(0)
    for text in texts:  # each waits until it is shown (the page renders after its fetches)
        expect(page.locator("body")).to_contain_text(text)
    assert page.evaluate("window.__xss") is None
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate(
        "[...document.scripts].every((s) => new URL(s.src).pathname.startsWith('/static/'))"
    )


def test_experiment_and_runs_pages_render_payloads_as_text(unguarded, hostile):
    page = unguarded.page
    unguarded.open("experiments")
    page.get_by_placeholder("Search experiments by name").fill("xss-")
    assert_inert(unguarded, hostile["experiment_name"])

    unguarded.open(f"experiments/{hostile['experiment_id']}")
    page.get_by_role("button", name="Columns").click()
    page.get_by_role("dialog", name="Choose columns").get_by_label("payload").last.check()
    expect(page.get_by_role("grid")).to_contain_text("run ")
    assert_inert(
        unguarded, hostile["experiment_name"], f"experiment description {BOTH}", f"run {IMG}"
    )
    unguarded.shot("xss-runs")


def test_run_page_renders_payloads_as_text(unguarded, hostile):
    page = unguarded.page
    unguarded.open(f"runs/{hostile['run_id']}")
    assert_inert(
        unguarded,
        f"run {IMG}",
        f"run description {BOTH}",
        f"param {BOTH}",
        f"tag {BOTH}",
        f"dataset {IMG}",
    )
    unguarded.shot("xss-run")

    page.get_by_role("tab", name="Artifacts").click()
    page.get_by_role("button", name=hostile["file"]).click()
    expect(page.locator(".preview pre")).to_contain_text("artifact text")
    assert_inert(unguarded, hostile["file"], f"artifact text {BOTH}")
    page.get_by_role("button", name="data.json").click()
    expect(page.locator(".preview pre")).to_contain_text("json")
    page.get_by_role("button", name="table.csv").click()
    expect(page.locator(".preview table")).to_be_visible()
    assert_inert(unguarded, IMG)
    unguarded.shot("xss-artifacts")


def test_compare_page_renders_payloads_as_text(unguarded, hostile):
    unguarded.open(f"compare?runs={hostile['run_id']},{hostile['other_run_id']}")
    expect(unguarded.page.locator(".chart-card canvas")).to_have_count(1)
    assert_inert(unguarded, f"run {IMG}", f"param {BOTH}", f"tag {BOTH}")


def test_registry_pages_render_payloads_as_text(unguarded, hostile):
    page = unguarded.page
    unguarded.open("models")
    page.get_by_placeholder("Search models by name").fill("xss-model")
    assert_inert(unguarded, hostile["model"])
    page.get_by_role("link", name=hostile["model"]).click()
    assert_inert(unguarded, hostile["model"], f"model description {BOTH}", f"model tag {BOTH}")
    page.get_by_role("link", name="Version 1").click()
    assert_inert(unguarded, f"version description {BOTH}")
    unguarded.shot("xss-model-version")


def test_payload_pages_trigger_no_policy_violation(ui, hostile):
    """With the policy on, the same pages log no violation (the ``ui`` fixture fails on one)."""
    ui.open(f"runs/{hostile['run_id']}")
    assert_inert(ui, f"run {IMG}")
    ui.open(f"experiments/{hostile['experiment_id']}")
    assert_inert(ui, f"run {IMG}")


@pytest.fixture(scope="module")
def hostile_traces(ui_server):
    from tests.ui.trace_seed import seed_traces

    return seed_traces(ui_server.url, uuid.uuid4().hex[:6], text=BOTH)


def test_traces_pages_render_payloads_as_text(unguarded, hostile_traces):
    """Span names, attributes, inputs, outputs, tags, metadata, exception messages and
    assessment values and sources, from the real client, all read as text."""
    page = unguarded.page
    traced = hostile_traces
    unguarded.open(f"experiments/{traced.experiment_id}/traces")
    expect(page.locator("tbody tr")).to_have_count(3)
    assert_inert(unguarded, traced.experiment_name, f"answer{BOTH}")
    unguarded.shot("xss-traces")

    unguarded.open(f"traces/{traced.chat_trace_id}")
    expect(page.get_by_role("treeitem")).to_have_count(3)
    assert_inert(
        unguarded,
        f"answer{BOTH}",
        f"retrieve{BOTH}",
        f"tag {BOTH}",
        f"1.4{BOTH}",
        f"Refunds within 30 days {BOTH}",
        f"ana{BOTH}",
        f"Cites the policy {BOTH}",
    )
    page.get_by_role("treeitem").filter(has_text="retrieve").click()
    expect(page.locator("#span-detail").locator("table.kv")).to_contain_text("docs-v2")
    assert_inert(unguarded, f"docs-v2{BOTH}", "doc 0: <script>")
    page.get_by_role("treeitem").filter(has_text="Completions").click()
    expect(page.locator("#span-detail")).to_contain_text("echo: What is the refund policy?")
    assert_inert(unguarded, SCRIPT)  # inside the JSON of the chat request and response
    page.get_by_role("treeitem").first.click()  # the root's output is the reply, as text
    assert_inert(unguarded, f"echo: What is the refund policy?{BOTH}")
    unguarded.shot("xss-trace")

    unguarded.open(f"traces/{traced.error_trace_id}")
    page.get_by_role("treeitem").filter(has_text="parse").click()
    expect(page.locator("#span-detail .span-event")).to_be_visible()
    assert_inert(unguarded, f"ValueError: cannot parse 12 apples{BOTH}")


def test_traces_pages_trigger_no_policy_violation(ui, hostile_traces):
    ui.open(f"traces/{hostile_traces.chat_trace_id}")
    assert_inert(ui, f"answer{BOTH}")
    ui.open(f"experiments/{hostile_traces.experiment_id}/traces")
    assert_inert(ui, f"answer{BOTH}")
