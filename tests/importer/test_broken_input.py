"""``stratus import`` given what a new user really gives it: the wrong file, the wrong
folder, a target that is not a Stratus server, a database copied without its artifacts.

Each mistake is one clear line and exit status 2, before anything is written; nothing
is reported as imported that was not.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.importer.conftest import build_source, stratus_import

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

USAGE = 2


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


@pytest.fixture
def target(tmp_path: Path) -> dict:
    """The embedded default store of a fresh data folder."""
    return {"data_dir": tmp_path / "data", "artifact_root": str(tmp_path / "artifacts")}


@pytest.fixture(scope="module")
def copied_database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """An ``mlflow.db`` made on "another machine", copied here without its ``mlruns/``;
    the artifact folder was copied elsewhere. Returns (database, moved folder, manifest)."""
    original = tmp_path_factory.mktemp("elsewhere")
    manifest = build_source(
        f"sqlite:///{original / 'mlflow.db'}", original, "moved", "--runs", "2", "--points", "5"
    )
    here = tmp_path_factory.mktemp("here")
    shutil.copy(original / "mlflow.db", here / "mlflow.db")
    moved = shutil.copytree(original / "mlruns", here / "old-artifacts")
    shutil.rmtree(original / "mlruns")
    return here / "mlflow.db", Path(moved), manifest


def test_a_file_that_is_not_sqlite_is_one_line(target: dict, tmp_path: Path) -> None:
    corrupt = tmp_path / "mlflow.db"
    corrupt.write_bytes(b"this is not a database\n" * 100)

    done = stratus_import(str(corrupt), check=False, **target)

    assert done.returncode == USAGE
    line = _one_line(done.stderr)
    assert str(corrupt) in line and "not an SQLite database" in line
    assert not (target["data_dir"] / "imports").exists()


@pytest.mark.parametrize("layout", ["empty", "not-mlruns", "project"])
def test_a_folder_that_is_not_mlruns_says_what_was_expected(
    layout: str, target: dict, tmp_path: Path
) -> None:
    folder = tmp_path / "given"
    folder.mkdir()
    if layout == "not-mlruns":
        (folder / "notes.txt").write_text("hello\n")
        (folder / "src").mkdir()
    if layout == "project":
        experiment = folder / "mlruns" / "0"
        experiment.mkdir(parents=True)
        (experiment / "meta.yaml").write_text("experiment_id: '0'\nname: Default\n")

    done = stratus_import(str(folder), check=False, **target)

    assert done.returncode == USAGE
    line = _one_line(done.stderr)
    assert "mlruns" in line and "meta.yaml" in line
    if layout == "project":
        assert f"did you mean {folder / 'mlruns'}" in line
    assert "Imported" not in done.stdout
    assert not (target["data_dir"] / "imports").exists()


@pytest.mark.parametrize("url", ["not-a-url", "ftp://example.com", "http://"])
def test_a_target_that_is_not_a_url_exits_at_once(url: str, target: dict, tmp_path: Path) -> None:
    started = time.monotonic()
    done = stratus_import(str(tmp_path), "--to", url, check=False, **target)

    assert done.returncode == USAGE
    assert "--to" in _one_line(done.stderr)
    # No retries: the answer comes before the client's first backoff would have ended.
    assert time.monotonic() - started < 20


class _HtmlNotFound(BaseHTTPRequestHandler):
    """What Flask (a plain ``mlflow server``) answers for a path it does not serve."""

    def do_POST(self) -> None:
        body = b"<!doctype html><title>404 Not Found</title><h1>Not Found</h1>" + b" " * 2000
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def plain_http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlNotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_target_that_is_not_stratus_is_named(
    copied_database: tuple[Path, Path, dict], plain_http_server: str, target: dict
) -> None:
    database, moved, _ = copied_database
    done = stratus_import(
        str(database),
        "--artifacts-root",
        str(moved),
        "--to",
        plain_http_server,
        check=False,
        **target,
    )

    assert done.returncode == 1
    assert f"{plain_http_server} is not a Stratus server" in done.stderr
    assert "<h1>" not in done.stderr and "<!doctype" not in done.stderr


def test_a_database_copied_without_its_artifacts_is_an_error(
    copied_database: tuple[Path, Path, dict], target: dict
) -> None:
    database, _, _ = copied_database
    recorded = sqlite3.connect(database).execute(
        "SELECT artifact_location FROM experiments WHERE name = 'moved-plain'"
    )
    missing_root = str(Path(recorded.fetchone()[0].removeprefix("file://")).parent)

    done = stratus_import(str(database), check=False, **target)

    assert done.returncode == USAGE
    line = _one_line(done.stderr)
    assert missing_root in line and "--artifacts-root" in line
    assert not (target["data_dir"] / "imports").exists()


def test_artifacts_root_remaps_a_moved_folder_and_verify_compares_files(
    copied_database: tuple[Path, Path, dict], target: dict
) -> None:
    database, moved, manifest = copied_database

    done = stratus_import(str(database), "--artifacts-root", str(moved), "--verify", **target)

    assert "artifacts 2" in done.stdout, done.stdout
    assert "Verified against the target: OK" in done.stdout
    for run_id in manifest["runs"]:
        (copied,) = Path(target["artifact_root"]).glob(f"*/{run_id}/artifacts/out/log.txt")
        assert copied.read_text().startswith("run ")


def test_unreachable_artifacts_are_retried_on_the_next_run(
    copied_database: tuple[Path, Path, dict], target: dict, tmp_path: Path
) -> None:
    """Artifacts that could not be read leave their run unfinished in the journal, so the
    same command, once the files are reachable, copies them."""
    database, moved, manifest = copied_database
    proxied = tmp_path / "proxied.db"
    shutil.copy(database, proxied)
    with sqlite3.connect(proxied) as conn:
        conn.execute(
            "UPDATE runs SET artifact_uri = 'mlflow-artifacts:/' || experiment_id || '/' "
            "|| run_uuid || '/artifacts'"
        )
        conn.execute(
            "UPDATE experiments SET artifact_location = 'mlflow-artifacts:/' || experiment_id"
        )

    first = stratus_import(str(proxied), check=False, **target)
    assert first.returncode == 3, first.stdout + first.stderr
    assert "--artifacts-root" in first.stdout + first.stderr

    again = stratus_import(str(proxied), "--artifacts-root", str(moved), "--verify", **target)
    assert "artifacts 2" in again.stdout, again.stdout
    assert "Verified against the target: OK" in again.stdout
    for run_id in manifest["runs"]:
        assert list(Path(target["artifact_root"]).glob(f"*/{run_id}/artifacts/out/log.txt"))


def test_dry_run_with_a_filter_predicts_what_the_import_does(sqlite_source, target: dict) -> None:
    """Registered models come along only with the runs they were made from; the dry run
    says so too instead of predicting versions the import then skips."""
    trash = f"{sqlite_source.manifest['experiments'][1]}"

    predicted = stratus_import(
        sqlite_source.spec, "--experiments", trash, "--dry-run", check=False, **target
    )
    done = stratus_import(sqlite_source.spec, "--experiments", trash, check=False, **target)

    def counted(stdout: str) -> str:
        line = next(x for x in stdout.splitlines() if x.startswith(("Would import", "Imported")))
        return line.split(": ", 1)[1].rsplit(" (in ", 1)[0]

    assert counted(predicted.stdout) == counted(done.stdout)
    assert "model versions" not in counted(predicted.stdout)
    # Both say the same about the registry: skipped, because its runs stay behind.
    assert predicted.returncode == done.returncode == 3
    assert "runs of its versions were not imported" in predicted.stdout
