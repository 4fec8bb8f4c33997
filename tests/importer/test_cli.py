"""``stratus import`` options: dry run, experiment selection and id mapping, verification."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from service.store import Store
from service.store.db import create_database
from tests.importer.conftest import build_source, stratus_import

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_experiments(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict]]:
    """An ``mlflow.db`` with experiments ``<a>-plain`` (id 1) and ``<b>-plain`` (id 2)."""
    workdir = tmp_path_factory.mktemp("cli-source")
    url = f"sqlite:///{workdir / 'mlflow.db'}"
    stamp = time.time_ns()
    built = [
        build_source(url, workdir, f"a{stamp}", "--runs", "2", "--points", "1500"),
        build_source(url, workdir, f"b{stamp}", "--runs", "1", "--points", "10"),
    ]
    return url, built


@pytest.fixture
def target(fresh_database: str, tmp_path: Path) -> dict:
    return {
        "database_url": fresh_database,
        "artifact_root": str(tmp_path / "artifacts"),
        "data_dir": tmp_path / "data",
    }


@pytest.fixture
def store(fresh_database: str):
    database = create_database(fresh_database)
    yield Store.over(database)
    database.dispose()


def _names(store: Store) -> set[str]:
    from service.store.entities.tracking import ViewType

    page = store.experiments.search(
        view_type=ViewType.ALL, filter_string=None, order_by=[], max_results=None, page_token=None
    )
    return {e.name for e in page.items}


def test_dry_run_reports_and_writes_nothing(two_experiments, target: dict, store) -> None:
    url, _ = two_experiments
    done = stratus_import(url, "--dry-run", **target)

    assert "Would import: experiments 3 · runs 3 · points 3,010 · artifacts 3" in done.stdout
    assert _names(store) == {"Default"}
    assert not (target["data_dir"] / "imports").exists()


def test_ids_are_kept_where_free(two_experiments, target: dict, store) -> None:
    url, built = two_experiments
    stratus_import(url, **target)

    for index, manifest in enumerate(built, start=1):
        experiment = store.experiments.get_by_name(manifest["experiments"][0])
        assert experiment.experiment_id == index
        assert experiment.artifact_location == f"mlflow-artifacts:/{index}"
        for run_id in manifest["runs"]:
            run = store.runs.get(run_id)
            assert run.info.artifact_uri == f"mlflow-artifacts:/{index}/{run_id}/artifacts"
    # The id sequence moved past the imported ids: a new experiment does not collide.
    assert store.experiments.create("after-import") == 3


def test_a_taken_id_is_reported_and_mapped(two_experiments, target: dict, store) -> None:
    url, built = two_experiments
    assert store.experiments.create("already-here") == 1
    first, second = (m["experiments"][0] for m in built)

    done = stratus_import(url, "--map-experiment", f"{second}=40", **target)

    assert f"experiment '{first}' (source id 1) -> 2: id 1 is taken by 'already-here'" in (
        done.stderr
    )
    assert "--map-experiment 1=<target id>" in done.stderr
    assert store.experiments.get_by_name(first).experiment_id == 2
    assert store.experiments.get_by_name(second).experiment_id == 40
    assert store.experiments.get_by_name("already-here").experiment_id == 1
    assert store.experiments.create("after-import") == 41


def test_select_experiments_by_pattern(two_experiments, target: dict, store) -> None:
    url, built = two_experiments
    wanted = built[1]["experiments"][0]
    done = stratus_import(url, "--experiments", f"{wanted[:4]}*-plain", **target)

    assert "experiments 1 · runs 1 · points 10" in done.stdout
    assert _names(store) == {"Default", wanted}


def test_verify_finds_a_damaged_artifact(two_experiments, target: dict) -> None:
    url, built = two_experiments
    stratus_import(url, **target)
    run_id = built[1]["runs"][0]
    (damaged,) = Path(target["artifact_root"]).glob(f"*/{run_id}/artifacts/out/log.txt")
    damaged.write_text("not what was logged\n")

    done = stratus_import(url, "--verify", check=False, **target)

    assert done.returncode == 1
    assert f"MISMATCH {run_id}: artifact out/log.txt differs (sha256)" in done.stderr
    assert "Verified against the target: 1 difference(s)" in done.stdout


def test_bad_arguments_are_usage_errors(target: dict, tmp_path: Path) -> None:
    missing = stratus_import(str(tmp_path / "nowhere"), check=False, **target)
    assert missing.returncode == 2
    assert "No mlruns folder or database file" in missing.stderr
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    not_mlflow = stratus_import(str(empty), check=False, **target)
    assert (not_mlflow.returncode, "has no MLflow tables" in not_mlflow.stderr) == (2, True)
    bad_map = stratus_import(str(empty), "--map-experiment", "x=y", check=False, **target)
    assert bad_map.returncode == 2 and "--map-experiment takes" in bad_map.stderr


@pytest.mark.needs_backend("postgresql")
def test_an_import_leaves_the_tables_analysed(two_experiments, target: dict) -> None:
    """The first search after an import is planned with statistics of the imported rows."""
    from service.store.statistics import PlannerStatistics

    url, _ = two_experiments
    stratus_import(url, **target)

    database = create_database(target["database_url"])
    with database.read() as conn:
        assert PlannerStatistics().present(conn)
    database.dispose()
