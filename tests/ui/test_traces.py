"""The traces view in Chromium, on traces the real mlflow client wrote: the table of an
experiment's traces (filter grammar, its errors, ordering, page tokens), the trace page
(span tree and timeline, the selected span's inputs, outputs, attributes and events,
assessments, the linked run, deep links, the keyboard), bounded payloads and a
1,000-span trace."""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest

from tests.ui.conftest import SCREENSHOTS
from tests.ui.trace_seed import SeededTraces, seed_many_traces, seed_traces, seed_wide_trace

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import expect

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def traced(ui_server) -> SeededTraces:
    return seed_traces(ui_server.url, uuid.uuid4().hex[:6])


def _spans(trace_id: str) -> dict[str, str]:
    """Span name -> span id (hex), as the mlflow client reads them."""
    import mlflow

    trace = mlflow.get_trace(trace_id)
    return {span.name: span.span_id for span in trace.data.spans}


def _rows(page):
    return page.locator("tbody tr")


def test_traces_table_filter_order_and_open(ui, traced):
    page = ui.page
    ui.open(f"experiments/{traced.experiment_id}")
    page.get_by_role("navigation", name="Experiment views").get_by_role(
        "link", name="Traces"
    ).click()
    expect(page).to_have_url(re.compile(rf"#/experiments/{traced.experiment_id}/traces"))
    expect(_rows(page)).to_have_count(3)
    for header in ("Trace", "Status", "Request time", "Latency", "Tokens", "Tags", "Run"):
        expect(page.get_by_role("columnheader", name=header, exact=True)).to_be_visible()
    chat = _rows(page).filter(has=page.get_by_role("link", name="answer", exact=True))
    expect(chat).to_contain_text("Ok")
    expect(chat.get_by_role("cell").nth(4)).to_have_text("10")  # tokens from autolog
    expect(chat).to_contain_text("env: staging")
    expect(chat).to_contain_text("helpful: true")
    expect(chat.get_by_role("link", name=traced.run_id[:8])).to_have_attribute(
        "href", f"#/runs/{traced.run_id}"
    )
    failed = _rows(page).filter(has=page.get_by_role("link", name="failing-tool"))
    expect(failed).to_contain_text("Error")
    # Newest first by default.
    expect(_rows(page).first).to_contain_text("summarize")
    ui.shot("traces")

    # Ordered by latency on the server: the chat call (its server thinks for 0.5 s) is slowest.
    page.get_by_role("columnheader", name="Latency").get_by_role("button").click()
    expect(page.get_by_role("columnheader", name="Latency")).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(page).to_have_url(re.compile(r"sort=latency"))
    page.get_by_role("columnheader", name="Latency").get_by_role("button").click()
    expect(page.get_by_role("columnheader", name="Latency")).to_have_attribute(
        "aria-sort", "ascending"
    )
    expect(_rows(page).last).to_contain_text("answer")

    # The server's filter grammar; a bad filter shows the API's message, not a crash.
    search = page.get_by_label("Filter traces (search grammar)")
    search.fill("trace.status = 'ERROR'")
    search.press("Enter")
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("failing-tool")
    search.fill("tags.env = 'staging' and span.type = 'CHAT_MODEL'")
    search.press("Enter")
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("answer")
    search.fill("trace.status >>> 'OK'")
    search.press("Enter")
    expect(page.locator("#filter-error")).not_to_be_empty()
    expect(search).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Fix the filter to see traces.")).to_be_visible()
    ui.errors.clear()  # the 400 is logged by the browser as a failed request
    ui.shot("traces-filter-error")

    search.fill("trace.name = 'answer'")
    search.press("Enter")
    expect(search).not_to_have_attribute("aria-invalid", "true")
    page.get_by_role("link", name="answer", exact=True).click()
    expect(page.get_by_role("heading", name="answer", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"#/traces/{traced.chat_trace_id}"))


def test_traces_table_pages_with_page_tokens(ui, ui_server):
    experiment_id = seed_many_traces(ui_server.url, uuid.uuid4().hex[:6], 55)
    page = ui.page
    searches: list[dict] = []
    page.on(
        "request",
        lambda r: (
            searches.append(json.loads(r.post_data or "{}"))
            if r.url.endswith("/api/3.0/mlflow/traces/search")
            else None
        ),
    )
    ui.open(f"experiments/{experiment_id}/traces")
    expect(_rows(page)).to_have_count(50)
    expect(page.locator(".trace-count")).to_have_text("50 traces loaded")
    page.get_by_role("button", name="Load more").click()
    expect(_rows(page)).to_have_count(55)
    expect(page.locator(".trace-count")).to_have_text("55 traces")
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)
    assert len(searches) == 2
    assert "page_token" not in searches[0] and searches[1]["page_token"]
    names = [n.strip() for n in page.locator("tbody tr td:first-child a").all_inner_texts()]
    assert sorted(names) == sorted(f"step-{i}" for i in range(55))  # no gaps, no repeats


def test_trace_page_tree_details_assessments_and_run(ui, traced):
    page = ui.page
    ids = _spans(traced.chat_trace_id)
    ui.open(f"traces/{traced.chat_trace_id}")
    tree = page.get_by_role("tree", name="Spans of answer")
    expect(tree.get_by_role("treeitem")).to_have_count(3)
    root = tree.get_by_role("treeitem").first
    expect(root).to_have_attribute("aria-selected", "true")
    expect(root).to_have_attribute("aria-expanded", "true")
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text("10 (7 in · 3 out)")
    detail = page.locator("#span-detail")
    expect(detail).to_contain_text("What is the refund policy?")  # the root's inputs

    # Timeline: every bar sits inside its track, the root's spans the whole trace.
    bars = tree.locator(".span-bar")
    expect(bars).to_have_count(3)
    root_bar = bars.first.bounding_box()
    track = tree.locator(".span-track").first.bounding_box()
    assert root_bar["width"] > 0.95 * track["width"]

    tree.get_by_role("treeitem").filter(has_text="Completions").click()
    expect(page).to_have_url(re.compile(f"span={ids['Completions']}"))
    expect(detail.get_by_role("heading", name="Completions")).to_be_visible()
    expect(detail).to_contain_text("CHAT_MODEL")
    expect(detail).to_contain_text("7 in · 3 out")
    expect(detail.locator("pre").first).to_contain_text('"model": "tiny-model"')
    expect(detail.locator("pre").nth(1)).to_contain_text("echo: What is the refund policy?")
    expect(detail.locator("table.kv")).to_contain_text("mlflow.chat.tokenUsage")

    tree.get_by_role("treeitem").filter(has_text="retrieve").click()
    expect(detail.locator("table.kv")).to_contain_text("top_k")
    expect(detail.locator("table.kv")).to_contain_text("docs-v2")
    expect(detail).to_contain_text("doc 0")

    assessments = page.locator("section", has=page.get_by_role("heading", name="Assessments (2)"))
    helpful = assessments.locator("tr", has_text="helpful")
    expect(helpful).to_contain_text("Feedback")
    expect(helpful).to_contain_text("true")
    expect(helpful).to_contain_text("HUMAN ana")
    expect(helpful).to_contain_text("Cites the policy")
    expected = assessments.locator("tr", has_text="expected_answer")
    expect(expected).to_contain_text("Expectation")
    expect(expected).to_contain_text("Refunds within 30 days")
    expect(expected).to_contain_text("HUMAN ben")
    tags = page.locator("section", has=page.get_by_role("heading", name=re.compile(r"^Tags")))
    expect(tags).to_contain_text("staging")
    metadata = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Metad")))
    expect(metadata).to_contain_text("app_version")
    ui.shot("trace")

    # MLflow's address of an open trace opens its page.
    ui.open(
        f"experiments/{traced.experiment_id}/traces?selectedEvaluationId={traced.chat_trace_id}"
    )
    expect(page).to_have_url(re.compile(rf"#/traces/{traced.chat_trace_id}$"))
    expect(page.get_by_role("heading", name="answer", level=1)).to_be_visible()

    # A deep link opens the same span.
    ui.open(f"traces/{traced.chat_trace_id}?span={ids['retrieve']}")
    selected = page.get_by_role("treeitem", selected=True)
    expect(selected).to_contain_text("retrieve")
    expect(page.locator("#span-detail").get_by_role("heading", name="retrieve")).to_be_visible()

    facts = page.locator("dl.facts").first
    facts.get_by_role("link", name=traced.run_id).click()
    expect(page.get_by_role("heading", name="agent-eval")).to_be_visible()
    # ... whose page links back to the traces it produced.
    page.get_by_role("link", name="Traces of this run").click()
    expect(page.get_by_label("Filter traces (search grammar)")).to_have_value(
        f"trace.run_id = '{traced.run_id}'"
    )
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("answer")


def test_trace_tree_keyboard(ui, traced):
    page = ui.page
    ui.open(f"traces/{traced.chat_trace_id}")
    tree = page.get_by_role("tree")
    items = tree.get_by_role("treeitem")
    expect(items).to_have_count(3)
    root = items.first
    expect(root).to_have_attribute("tabindex", "0")  # one tab stop: the selected span
    root.focus()
    page.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_be_focused()
    expect(items.nth(1)).to_have_attribute("aria-selected", "true")
    expect(page.locator("#span-detail").get_by_role("heading", name="retrieve")).to_be_visible()
    page.keyboard.press("End")
    expect(items.nth(2)).to_be_focused()
    page.keyboard.press("ArrowLeft")  # a leaf: to its parent
    expect(root).to_be_focused()
    page.keyboard.press("ArrowLeft")  # an open parent: folds
    expect(root).to_have_attribute("aria-expanded", "false")
    expect(items).to_have_count(1)
    page.keyboard.press("ArrowRight")  # unfolds
    expect(items).to_have_count(3)
    page.keyboard.press("ArrowRight")  # into the first child
    expect(items.nth(1)).to_be_focused()
    page.keyboard.press("Home")
    page.keyboard.press("Enter")  # folds
    expect(items).to_have_count(1)
    expect(root).to_be_focused()


def test_error_trace_shows_the_exception_event(ui, traced):
    page = ui.page
    ui.open(f"traces/{traced.error_trace_id}")
    expect(page.get_by_role("heading", name="failing-tool", level=1)).to_be_visible()
    expect(page.locator(".page-head")).to_contain_text("Error")
    tree = page.get_by_role("tree")
    expect(tree.locator(".span-bar.error")).to_have_count(2)
    tree.get_by_role("treeitem").filter(has_text="parse").click()
    detail = page.locator("#span-detail")
    expect(detail.get_by_role("heading", name="parse")).to_be_visible()
    expect(detail.get_by_role("note")).to_contain_text("ValueError: cannot parse 12 apples")
    event = detail.locator(".span-event.exception")
    expect(event).to_contain_text("exception")
    expect(event).to_contain_text("exception.type")
    expect(event).to_contain_text("ValueError")
    expect(event).to_contain_text("Traceback (most recent call last)")
    ui.shot("trace-error")

    # An unknown trace: the API's error, and a way back.
    ui.open("traces/tr-0123456789abcdef0123456789abcdef")
    expect(page.get_by_role("alert")).to_contain_text("RESOURCE_DOES_NOT_EXIST")
    expect(page.get_by_role("link", name="Back to experiments")).to_be_visible()
    ui.errors.clear()  # the 404 is logged by the browser as a failed request


def test_large_payload_is_cut_until_asked_for(ui, traced):
    page = ui.page
    ui.open(f"traces/{traced.big_trace_id}")
    detail = page.locator("#span-detail")
    expect(detail.get_by_role("heading", name="summarize")).to_be_visible()
    inputs = detail.locator(".payload").first
    expect(inputs).to_contain_text("Showing the first 10,000 of")
    assert len(inputs.locator("pre").inner_text()) < 10_100
    inputs.get_by_role("button", name="Show all").click()
    expect(inputs).to_contain_text("All 300,")
    assert len(inputs.locator("pre").inner_text()) > 300_000
    with page.expect_download() as download:
        inputs.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "summarize-inputs.json"
    assert len(download.value.path().read_text()) > 300_000


def test_a_thousand_span_trace_stays_bounded(ui, ui_server):
    trace_id = seed_wide_trace(ui_server.url, uuid.uuid4().hex[:6], 1000)
    ids = _spans(trace_id)
    page = ui.page
    started = time.perf_counter()
    ui.open(f"traces/{trace_id}")
    tree = page.get_by_role("tree")
    expect(tree.get_by_role("treeitem").first).to_be_visible()
    shown_s = time.perf_counter() - started
    expect(page.get_by_role("heading", name="Spans (1,000)")).to_be_visible()
    rows = tree.get_by_role("treeitem")
    first_rows = rows.count()
    assert first_rows <= 420, first_rows  # unfolded to about 300 rows, not 1,000
    render_ms = int(tree.get_attribute("data-render-ms"))

    # Stages 0 and 1 are unfolded; each shows 200 of its children, then a row for the rest.
    more = tree.get_by_role("treeitem").filter(has_text=re.compile(r"Show 49 more of 49 spans"))
    expect(more).to_have_count(2)
    more.first.click()
    expect(more).to_have_count(1)
    expect(tree.get_by_role("treeitem").filter(has_text="stage-0-step-248")).to_have_count(1)

    # A deep link to the last step of the last (folded) stage unfolds its way there.
    target = "stage-3-step-246"
    ui.open(f"traces/{trace_id}?span={ids[target]}")
    expect(page.get_by_role("treeitem", selected=True)).to_contain_text(target)
    expect(page.locator("#span-detail").get_by_role("heading", name=target)).to_be_visible()
    assert tree.get_by_role("treeitem").count() <= 700
    ui.shot("trace-1000-spans")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "trace-1000-spans.json").write_text(
        json.dumps({"first_rows": first_rows, "tree_ms": render_ms, "page_s": shown_s})
    )
    # A ceiling that catches a view gone quadratic, not a busy machine.
    assert render_ms < 5_000 and shown_s < 30


def test_traces_pages_reflow_on_a_phone(phone, traced):
    page = phone.page
    for fragment in (
        f"experiments/{traced.experiment_id}/traces",
        f"traces/{traced.chat_trace_id}",
    ):
        phone.open(fragment)
        expect(page.get_by_role("link", name="Traces").first).to_be_visible()
        expect(page.locator(".state.loading")).to_have_count(0)
        # Tables scroll inside their card; the page itself never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    expect(page.get_by_role("treeitem", selected=True)).to_be_visible()
    phone.shot("trace-phone")


def test_spans_come_from_the_client_upload_until_the_server_has_them(ui, ui_server, traced):
    """A trace whose spans never reached the server, with the ``traces.json`` copy the
    client uploads in that case (its own code path), shows the uploaded spans."""
    import httpx
    import mlflow
    from mlflow.tracing.client import TracingClient

    source = mlflow.get_trace(traced.error_trace_id)
    trace_id = f"tr-{uuid.uuid4().hex}"
    info = {
        "trace_id": trace_id,
        "trace_location": {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": traced.experiment_id},
        },
        "request_time": "2026-12-01T10:00:00.000Z",
        "execution_duration": "0.003s",
        "state": "ERROR",
        "tags": {"mlflow.traceName": "uploaded-only"},
    }
    httpx.post(
        f"{ui_server.url}/api/3.0/mlflow/traces", json={"trace": {"trace_info": info}}
    ).raise_for_status()
    client = TracingClient(ui_server.url)
    client._upload_trace_data(client.get_trace_info(trace_id), source.data)

    page = ui.page
    ui.open(f"traces/{trace_id}")
    expect(page.get_by_role("note").first).to_contain_text("traces.json")
    tree = page.get_by_role("tree")
    expect(tree.get_by_role("treeitem")).to_have_count(2)
    tree.get_by_role("treeitem").filter(has_text="parse").click()
    detail = page.locator("#span-detail")
    expect(detail.get_by_role("heading", name="parse")).to_be_visible()
    expect(detail).to_contain_text("PARSER")
    expect(detail.locator(".span-event.exception")).to_contain_text("ValueError")
