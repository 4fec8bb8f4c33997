"""With authentication on, the UI signs in through the server's sign-in page, shows only
what the user may read, says so when a page is forbidden, and sends an expired session
back to the sign-in page with the way home."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support.cli import create_token, stratus
from tests.support.server import ServerProcess

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import expect

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def guarded(tmp_path_factory) -> Iterator[dict]:
    workdir = tmp_path_factory.mktemp("ui-auth")
    database_url = f"sqlite:///{workdir / 'auth.db'}"
    server = ServerProcess(
        database_url=database_url,
        artifact_root=str(workdir / "artifacts"),
        workdir=workdir,
        env={"STRATUS_AUTH_ENABLED": "true", "STRATUS_DEFAULT_PERMISSION": "NO_PERMISSIONS"},
    ).start()
    stratus(database_url, "user", "create", "admin", "--admin")
    stratus(database_url, "user", "create", "alice")
    admin = {"Authorization": f"Bearer {create_token(database_url, 'admin')}"}
    suffix = uuid.uuid4().hex[:6]
    ids = {}
    with httpx.Client(base_url=f"{server.url}/api/2.0/mlflow", headers=admin) as api:
        for name in ("visible", "hidden"):
            response = api.post("/experiments/create", json={"name": f"{name}-{suffix}"})
            ids[name] = response.raise_for_status().json()["experiment_id"]
        api.post(
            "/experiments/permissions/create",
            json={"experiment_id": ids["visible"], "username": "alice", "permission": "READ"},
        ).raise_for_status()
        traces = {name: _start_trace(api, server.url, ids[name], name) for name in ids}
    yield {
        "traces": traces,
        "url": server.url,
        "alice": create_token(database_url, "alice"),
        "ids": ids,
        "names": {k: f"{k}-{suffix}" for k in ids},
    }
    server.stop()


def _start_trace(api: httpx.Client, url: str, experiment_id: str, name: str) -> str:
    """A trace info written with the admin's credentials (StartTraceV3, as the client does)."""
    trace_id = f"tr-{uuid.uuid4().hex}"
    info = {
        "trace_id": trace_id,
        "trace_location": {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": experiment_id},
        },
        "request_time": "2026-12-01T10:00:00.000Z",
        "execution_duration": "0.120s",
        "state": "OK",
        "tags": {"mlflow.traceName": f"{name}-trace"},
    }
    api.post(
        f"{url}/api/3.0/mlflow/traces", json={"trace": {"trace_info": info}}
    ).raise_for_status()
    return trace_id


def test_a_user_sees_only_what_they_may_read(new_tab, guarded):
    with new_tab(guarded["url"]) as ui:
        page = ui.page
        ui.open("experiments")
        expect(page).to_have_url(re.compile(r"/auth/login\?next="))
        page.get_by_label(re.compile("Paste an access token")).fill(guarded["alice"])
        page.get_by_role("button", name="Sign in").click()

        expect(page.get_by_role("link", name=guarded["names"]["visible"])).to_be_visible()
        expect(page.get_by_role("link", name=guarded["names"]["hidden"])).to_have_count(0)
        ui.shot("auth-experiments")

        ui.open(f"experiments/{guarded['ids']['hidden']}")
        expect(page.get_by_role("alert")).to_contain_text("You do not have permission")
        expect(page.get_by_role("alert")).to_contain_text("PERMISSION_DENIED")
        ui.shot("auth-forbidden")

        # The session ends: the next API call opens the prompt, which leads back here.
        page.context.clear_cookies()
        page.get_by_role("link", name="Models").click()
        dialog = page.get_by_role("dialog", name="Sign in to continue")
        expect(dialog).to_be_visible()
        dialog.get_by_role("link", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/auth/login\?next=%2F%23%2Fmodels"))
        ui.errors.clear()  # the 401 and 403 are logged by the browser as failed requests


def test_a_deep_link_survives_sign_in_and_the_user_can_sign_out(new_tab, guarded):
    visible = guarded["ids"]["visible"]
    with new_tab(guarded["url"]) as ui:
        page = ui.page
        ui.open(f"experiments/{visible}?filter=attributes.status%20%3D%20'RUNNING'")
        expect(page).to_have_url(re.compile(r"/auth/login\?next=%2F%23%2Fexperiments%2F"))
        page.get_by_label(re.compile("Paste an access token")).fill(guarded["alice"])
        page.get_by_role("button", name="Sign in").click()

        # Back on the very page asked for, filter included.
        expect(page.get_by_role("heading", name=guarded["names"]["visible"])).to_be_visible()
        expect(page.get_by_label("Filter runs (search grammar)")).to_have_value(
            "attributes.status = 'RUNNING'"
        )
        expect(page.locator("#whoami")).to_contain_text("alice")
        ui.shot("auth-signed-in")

        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/auth/login"))
        ui.open("models")
        expect(page).to_have_url(re.compile(r"/auth/login\?next=%2F%23%2Fmodels"))


def test_with_auth_off_no_one_is_shown_and_nothing_probes(ui):
    page = ui.page
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    ui.open("tokens")
    expect(page.get_by_text("Authentication is off on this server")).to_be_visible()
    expect(page.locator("#whoami")).to_be_empty()
    assert failed == []


def test_a_reader_sees_no_editing_controls(new_tab, guarded):
    with new_tab(guarded["url"]) as ui:
        page = ui.page
        ui.open(f"experiments/{guarded['ids']['visible']}")
        page.get_by_label(re.compile("Paste an access token")).fill(guarded["alice"])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name=guarded["names"]["visible"])).to_be_visible()
        page.get_by_text("Description and tags").click()
        expect(page.locator(".about")).to_contain_text("No description.")
        expect(page.get_by_role("button", name="Edit description")).to_have_count(0)
        expect(page.get_by_role("button", name="Set tag")).to_have_count(0)


def test_traces_need_read_on_their_experiment(new_tab, guarded):
    with new_tab(guarded["url"]) as ui:
        page = ui.page
        ui.open(f"experiments/{guarded['ids']['visible']}/traces")
        page.get_by_label(re.compile("Paste an access token")).fill(guarded["alice"])
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="visible-trace").click()
        expect(page.get_by_role("heading", name="visible-trace", level=1)).to_be_visible()
        expect(page.get_by_text("This trace has no spans yet.")).to_be_visible()

        ui.open(f"experiments/{guarded['ids']['hidden']}/traces")
        expect(page.get_by_role("alert")).to_contain_text("PERMISSION_DENIED")
        ui.open(f"traces/{guarded['traces']['hidden']}")
        expect(page.get_by_role("alert")).to_contain_text("You do not have permission")
        expect(page.get_by_role("alert")).to_contain_text("PERMISSION_DENIED")
        expect(page.get_by_role("heading", name="hidden-trace")).to_have_count(0)
        ui.errors.clear()  # the 403s are logged by the browser as failed requests
