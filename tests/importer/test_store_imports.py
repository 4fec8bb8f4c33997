"""``service.store.imports`` on every backend: ids and times kept, every write idempotent,
collisions reported rather than overwritten."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store import Store, migrate
from service.store.db import create_database
from service.store.entities.common import KeyValue
from service.store.entities.registry import ModelVersion
from service.store.entities.tracking import MetricPoint, ModelOutput
from service.store.imports import (
    ExperimentImport,
    ImportStore,
    LoggedModelImport,
    Outcome,
    RegisteredModelImport,
    RunImport,
)
from tests.support.backends import scratch_database


@pytest.fixture(scope="module")
def stores(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """A database of this module's own: the tests choose experiment ids."""
    with scratch_database(backend, tmp_path_factory.mktemp("imports")) as url:
        database = create_database(url)
        migrate.upgrade(database)
        yield ImportStore(database), Store.over(database)
        database.dispose()


def _experiment(name: str, stage: str = "active") -> ExperimentImport:
    return ExperimentImport(
        name=name,
        lifecycle_stage=stage,
        creation_time=1_600_000_000_000,
        last_update_time=1_600_000_000_500,
        tags=[KeyValue("team", "nlp")],
    )


def _run(run_id: str, **changes: object) -> RunImport:
    fields: dict = {
        "run_id": run_id,
        "name": "old-run",
        "user_id": "alice",
        "status": "FAILED",
        "start_time": 1_600_000_001_000,
        "end_time": 1_600_000_002_000,
        "lifecycle_stage": "active",
        "params": [KeyValue("lr", "0.1")],
        "tags": [KeyValue("mlflow.runName", "old-run"), KeyValue("mlflow.user", "alice")],
        "model_outputs": [ModelOutput("m-" + run_id, 3)],
    }
    return RunImport(**{**fields, **changes})


def test_experiment_ids_kept_when_free_and_mapped_when_taken(stores) -> None:
    imports, store = stores
    name, wanted = "imported", 40

    created = imports.place_experiment(_experiment(name), wanted)
    assert (created.experiment_id, created.outcome, created.note) == (wanted, Outcome.CREATED, None)
    experiment = store.experiments.get(wanted)
    assert (experiment.name, experiment.creation_time, experiment.last_update_time) == (
        name,
        1_600_000_000_000,
        1_600_000_000_500,
    )
    assert experiment.artifact_location == f"mlflow-artifacts:/{wanted}"
    assert experiment.tags == [KeyValue("team", "nlp")]
    # The id sequence moved past the explicit id: ordinary creates do not collide.
    assert store.experiments.create(f"after-{name}") == wanted + 1

    again = imports.place_experiment(_experiment(name), wanted)
    assert (again.experiment_id, again.outcome) == (wanted, Outcome.MERGED)

    other = imports.place_experiment(_experiment(f"other-{name}"), wanted)
    assert other.outcome is Outcome.CREATED and other.experiment_id != wanted
    assert other.note == f"id {wanted} is taken by '{name}'"

    huge = imports.place_experiment(_experiment(f"huge-{name}"), 327391997557283396)
    assert huge.outcome is Outcome.CREATED and "does not fit" in (huge.note or "")

    onto = imports.place_experiment(_experiment(f"mapped-{name}"), wanted, exact=True)
    assert (onto.experiment_id, onto.outcome) == (wanted, Outcome.MERGED)
    with pytest.raises(InvalidParameterValue, match="already has that name"):
        imports.place_experiment(_experiment(name), 50, exact=True)

    planned = imports.place_experiment(_experiment(f"dry-{name}"), 60, dry_run=True)
    assert (planned.experiment_id, planned.outcome) == (60, Outcome.CREATED)
    with pytest.raises(ResourceDoesNotExist):
        store.experiments.get_by_name(f"dry-{name}")


def test_runs_keep_ids_times_status_and_user(stores) -> None:
    imports, store = stores
    placed = imports.place_experiment(_experiment(f"runs-{uuid.uuid4().hex[:8]}"), None)
    experiment_id = placed.experiment_id
    run_id = uuid.uuid4().hex

    first = imports.import_run(experiment_id, _run(run_id))
    assert first.result.outcome is Outcome.CREATED
    assert first.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
    run = store.runs.get(run_id)
    info = run.info
    assert (info.run_name, info.user_id, info.status, info.start_time, info.end_time) == (
        "old-run",
        "alice",
        "FAILED",
        1_600_000_001_000,
        1_600_000_002_000,
    )
    assert run.params == [KeyValue("lr", "0.1")]
    assert run.model_outputs == [ModelOutput("m-" + run_id, 3)]

    conflicting = _run(run_id, params=[KeyValue("lr", "0.2")], lifecycle_stage="deleted")
    second = imports.import_run(experiment_id, conflicting)
    assert second.result.outcome is Outcome.MERGED
    assert second.result.notes == [
        f"param 'lr' of {run_id} kept its target value '0.1' (the source has '0.2')"
    ]
    assert store.runs.get(run_id).info.lifecycle_stage == "deleted"
    assert store.runs.get(run_id).model_outputs == [ModelOutput("m-" + run_id, 3)]

    elsewhere = imports.place_experiment(_experiment(f"else-{uuid.uuid4().hex[:8]}"), None)
    skipped = imports.import_run(elsewhere.experiment_id, _run(run_id))
    assert skipped.result.outcome is Outcome.SKIPPED
    assert "already exists on the target in experiment" in skipped.result.notes[0]


def test_metrics_are_idempotent_and_model_metrics_attach(stores) -> None:
    imports, store = stores
    experiment_id = imports.place_experiment(
        _experiment(f"metrics-{uuid.uuid4().hex[:8]}"), None
    ).experiment_id
    run_id = uuid.uuid4().hex
    imports.import_run(experiment_id, _run(run_id, status="FINISHED"))
    points = [MetricPoint("loss", 1.0 / (i + 1), 1_600_000_000_000 + i, i) for i in range(1500)]
    points.append(MetricPoint("loss", float("nan"), 1_600_000_009_999, 1500))

    for _ in range(2):  # a resumed import sends batches again
        for start in range(0, len(points), 1000):
            imports.import_metrics(run_id, points[start : start + 1000])

    history = store.metrics.history(run_id, "loss", max_results=None, page_token=None).items
    assert len(history) == 1501
    (latest,) = store.runs.get(run_id).metrics
    assert latest.step == 1500 and latest.value != latest.value  # NaN

    model_id = f"m-{uuid.uuid4().hex}"
    placed = imports.import_logged_model(
        experiment_id,
        LoggedModelImport(
            model_id=model_id,
            name="model",
            creation_timestamp_ms=1_600_000_003_000,
            last_updated_timestamp_ms=1_600_000_004_000,
            status="LOGGED_MODEL_READY",
            lifecycle_stage="active",
            source_run_id=run_id,
            params=[KeyValue("lr", "0.1")],
        ),
    )
    assert placed.artifact_location == (
        f"mlflow-artifacts:/{experiment_id}/models/{model_id}/artifacts"
    )
    attached = [
        MetricPoint("loss", 1.0, 1_600_000_000_000, 0, model_id=model_id, run_id=run_id),
        MetricPoint("rmse", 0.5, 1_600_000_005_000, 0, model_id=model_id, run_id=run_id),
        MetricPoint("rmse", 0.5, 1_600_000_005_000, 0, model_id=model_id, run_id="gone"),
    ]
    assert imports.import_model_metrics(model_id, attached) == 1
    assert imports.import_model_metrics(model_id, attached) == 1
    model = store.logged_models.get(model_id)
    assert sorted((m.key, m.step, m.run_id) for m in model.metrics) == [
        ("loss", 0, run_id),
        ("rmse", 0, run_id),
    ]
    assert model.creation_timestamp_ms == 1_600_000_003_000
    history = store.metrics.history(run_id, "loss", max_results=None, page_token=None).items
    assert len(history) == 1501  # attached, not added


def test_registry_keeps_numbers_and_reports_conflicts(stores) -> None:
    imports, store = stores
    experiment_id = imports.place_experiment(
        _experiment(f"reg-{uuid.uuid4().hex[:8]}"), None
    ).experiment_id
    model_id = f"m-{uuid.uuid4().hex}"
    location = imports.import_logged_model(
        experiment_id,
        LoggedModelImport(
            model_id=model_id,
            name="model",
            creation_timestamp_ms=1,
            last_updated_timestamp_ms=1,
            status="LOGGED_MODEL_READY",
            lifecycle_stage="active",
        ),
    ).artifact_location
    name = f"reg-{uuid.uuid4().hex[:8]}"
    model = RegisteredModelImport(
        name=name, creation_time=10, last_updated_time=20, last_version=4, tags=[KeyValue("a", "b")]
    )
    assert imports.import_registered_model(model).outcome is Outcome.CREATED
    assert imports.import_registered_model(model).outcome is Outcome.MERGED
    version = ModelVersion(
        name=name,
        version=3,
        creation_time=30,
        last_updated_time=40,
        current_stage="Production",
        source=f"models:/{model_id}",
        status="READY",
        run_id=uuid.uuid4().hex,
        tags=[KeyValue("k", "v")],
    )
    assert imports.import_model_version(version).outcome is Outcome.CREATED
    assert imports.import_model_version(version).outcome is Outcome.MERGED
    other = ModelVersion(
        name=name,
        version=3,
        creation_time=31,
        last_updated_time=41,
        current_stage="None",
        source="gs://bucket/elsewhere",
        status="READY",
    )
    assert imports.import_model_version(other).outcome is Outcome.SKIPPED

    stored = store.model_versions.get(name, 3)
    assert (stored.creation_time, stored.current_stage, stored.tags) == (
        30,
        "Production",
        [KeyValue("k", "v")],
    )
    assert store.model_versions.download_uri(name, 3) == location
    # Numbers the source used (deleted ones too) are never handed out again.
    assert store.model_versions.create(name=name, source=f"models:/{model_id}").version == 5

    assert imports.import_alias(name, "champion", 3).outcome is Outcome.CREATED
    assert imports.import_alias(name, "champion", 3).outcome is Outcome.MERGED
    assert imports.import_alias(name, "champion", 5).outcome is Outcome.SKIPPED
    assert imports.import_alias(name, "ghost", 2).outcome is Outcome.SKIPPED
    assert store.model_versions.by_alias(name, "champion").version == 3
