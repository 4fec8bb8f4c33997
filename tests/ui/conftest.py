"""Fixtures for the web UI: a live server on SQLite, seeded through the real mlflow client,
and Debian's Chromium driven by Playwright.

The browser tests need ``/usr/bin/chromium`` (``apt-get install -y chromium``); without it
they are skipped with that reason. Playwright's own browser download is never used.
Screenshots go to ``test-artifacts/ui/`` (git-ignored). With ``STRATUS_UI_DOC_SHOTS=1``
(scripts/ui-doc-screenshots.sh) the ones docs/ui.md shows are also written to
``docs/ui/`` (palette-reduced PNGs), so the documentation's pictures come from the tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.server import REPO_ROOT, ServerProcess
from tests.ui.seed import Seeded, seed_workspace

CHROMIUM = Path(os.environ.get("STRATUS_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "ui"
DOC_SHOTS_DIR = REPO_ROOT / "docs" / "ui"
#: The screenshots docs/ui.md shows (tests/ui/test_docs.py checks the two agree).
DOC_SHOTS = {
    "experiments",
    "runs",
    "runs-columns",
    "run-overview",
    "run-edit",
    "run-charts",
    "run-artifacts",
    "compare",
    "compare-sweep-parallel",
    "compare-sweep-scatter",
    "compare-sweep-box",
    "models",
    "model",
    "model-version",
    "tokens-created",
    "traces",
    "trace",
    "auth-signed-in",
}
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In a parallel run (``pytest -n N``) the UI's tests share one worker, so the seeded
    server and the browser below are made once (tests/support/scheduling.py)."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.xdist_group("ui"))


#: How long an action or an ``expect`` waits for its element before the test fails.
WAIT_MS = 15_000


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A live server on a fresh SQLite database, for the browser tests (one backend: the
    UI only talks to the API, whose backends the rest of the suite covers)."""
    workdir = tmp_path_factory.mktemp("ui-server")
    proc = ServerProcess(
        database_url=f"sqlite:///{workdir / 'ui.db'}",
        artifact_root=str(workdir / "artifacts"),
        workdir=workdir,
    ).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def seeded(ui_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed_workspace(ui_server.url, uuid.uuid4().hex[:6], tmp_path_factory.mktemp("seed"))


@pytest.fixture(scope="package")
def browser():
    """Chromium for the tests of this package, closed after them: Playwright's sync API
    marks an asyncio loop as running on the thread while it is open, so a test run after
    these on the same worker could not use ``asyncio.run``."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (CI installs it)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    # Assertions wait for their element as long as actions do: a loaded machine is slow.
    sync_api.expect.set_options(timeout=WAIT_MS)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class UiPage:
    """A browser tab on the UI that records script errors and takes named screenshots."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on(
            "console",
            lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )

    def open(self, fragment: str = "") -> None:
        self.page.goto(f"{self.base_url}/#/{fragment.lstrip('#/')}")

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.evaluate("window.scrollTo(0, 0)")  # a sticky top bar stitches oddly
        self.page.screenshot(path=str(path), full_page=True)
        if name in DOC_SHOTS and os.environ.get("STRATUS_UI_DOC_SHOTS") == "1":
            _save_for_docs(path, DOC_SHOTS_DIR / path.name)
        return path


def _save_for_docs(source: Path, target: Path) -> None:
    """A 256-colour copy: a third of the size, and screenshots of flat UI lose nothing."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.convert("RGB").quantize(colors=256).save(target, optimize=True)


@contextmanager
def _tab(browser, base_url: str, viewport: dict[str, int], **options) -> Iterator[UiPage]:
    """A fresh browser context; fails the test if any script error or CSP violation is
    logged. Tests that expect failing requests (404 pages, a forced 401) clear ``errors``."""
    context = browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(WAIT_MS)
    page = UiPage(context.new_page(), base_url)
    try:
        yield page
    finally:
        context.close()
    assert not page.errors, page.errors


@pytest.fixture
def new_tab(browser):
    """Open a tab on any server: ``with new_tab(url) as page: ...``."""

    def open_tab(base_url: str, viewport: dict[str, int] = DESKTOP, **options):
        return _tab(browser, base_url, viewport, **options)

    return open_tab


@pytest.fixture
def ui(browser, ui_server: ServerProcess) -> Iterator[UiPage]:
    """A laptop-sized tab on the UI."""
    with _tab(browser, ui_server.url, DESKTOP) as page:
        yield page


@pytest.fixture
def phone(browser, ui_server: ServerProcess) -> Iterator[UiPage]:
    """A phone-sized tab on the UI."""
    with _tab(browser, ui_server.url, PHONE, is_mobile=True, has_touch=True) as page:
        yield page


@pytest.fixture
def unguarded(browser, ui_server: ServerProcess) -> Iterator[UiPage]:
    """A tab that ignores the Content-Security-Policy, so XSS tests check the rendering
    itself rather than the policy that backs it up."""
    with _tab(browser, ui_server.url, DESKTOP, bypass_csp=True) as page:
        yield page


@pytest.fixture(scope="session")
def mlflow_client(ui_server: ServerProcess):
    from mlflow import MlflowClient

    return MlflowClient(ui_server.url)
