"""The access tokens page: a member creates a token in the browser, the real mlflow client
works with it as MLFLOW_TRACKING_TOKEN, and once revoked in the browser it is refused.
Without authentication the page says tokens are not needed."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.support.cli import create_token, stratus
from tests.support.server import ServerProcess

pytest.importorskip("playwright.sync_api", reason="pip install playwright")
from playwright.sync_api import expect

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

CLIPBOARD = ["clipboard-read", "clipboard-write"]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory) -> Iterator[dict]:
    """A server with authentication on, and a sign-in token for the member bob."""
    workdir = tmp_path_factory.mktemp("ui-tokens")
    database_url = f"sqlite:///{workdir / 'tokens.db'}"
    server = ServerProcess(
        database_url=database_url,
        artifact_root=str(workdir / "artifacts"),
        workdir=workdir,
        env={"STRATUS_AUTH_ENABLED": "true"},
    ).start()
    stratus(database_url, "user", "create", "bob")
    yield {"url": server.url, "sign_in": create_token(database_url, "bob", "sign-in")}
    server.stop()


def test_a_token_made_in_the_ui_works_until_revoked_there(new_tab, guarded, monkeypatch):
    client = MlflowClient(guarded["url"])
    with new_tab(guarded["url"], permissions=CLIPBOARD) as ui:
        page = ui.page
        ui.open("experiments")
        page.get_by_label(re.compile("Paste an access token")).fill(guarded["sign_in"])
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Access tokens").click()

        expect(page.get_by_role("heading", name="Access tokens")).to_be_visible()
        expect(page.get_by_role("link", name="Access tokens")).to_have_class("active")
        expect(page.get_by_role("cell", name="sign-in", exact=True)).to_be_visible()

        page.get_by_label("Name").fill("<b>notebook</b>")
        page.get_by_label("Expires in (days)").fill("7")
        page.get_by_role("button", name="Create token").click()
        shown = page.get_by_label("New token")
        expect(shown).to_have_text(re.compile(r"^stratus_pat_\S+$"))
        secret = shown.inner_text()
        expect(page.get_by_text("MLFLOW_TRACKING_TOKEN").first).to_be_visible()
        page.get_by_role("button", name="Copy").click()
        page.wait_for_function(
            "(secret) => navigator.clipboard.readText().then((text) => text === secret)",
            arg=secret,
        )
        row = page.get_by_role("row").filter(has_text="<b>notebook</b>")
        expect(row.get_by_text("Active")).to_be_visible()
        ui.shot("tokens-created")

        # The table never shows a secret, and the secret goes away with its panel.
        assert secret not in page.get_by_role("table").inner_text()
        page.get_by_role("button", name="Done").click()
        expect(page.get_by_label("New token")).to_have_count(0)
        assert secret not in page.content()

        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", secret)
        assert isinstance(client.search_experiments(), list)

        row.get_by_role("button", name="Revoke").click()
        dialog = page.get_by_role("dialog", name="Revoke token?")
        dialog.get_by_role("button", name="Revoke").click()
        expect(row.get_by_text("Revoked")).to_be_visible()
        expect(row.get_by_role("button", name="Revoke")).to_have_count(0)
        ui.shot("tokens-revoked")

        with pytest.raises(MlflowException) as refused:
            client.search_experiments()
        assert refused.value.get_http_status_code() == 401


def test_without_authentication_tokens_are_not_needed(ui):
    ui.open("tokens")
    expect(ui.page.get_by_text("Authentication is off on this server")).to_be_visible()
    expect(ui.page.get_by_role("button", name="Create token")).to_have_count(0)
    ui.shot("tokens-auth-off")
    ui.errors.clear()  # the browser logs the API's 400 ("auth is not enabled") as failed
