"""Field-by-field comparison of two tracking stores through the real mlflow client."""

from __future__ import annotations

import hashlib
import math
import tempfile
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType

MAX_DOUBLE = 1.7976931348623157e308


def _value(value: float) -> object:
    """NaN compares equal to itself; ±inf as SQL stores keep it, clamped to ±max double."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return MAX_DOUBLE if value > 0 else -MAX_DOUBLE
    return value


def _hashes(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.rglob("*")
        if path.is_file()
    }


def _run_artifacts(client: MlflowClient, run_id: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        if not client.list_artifacts(run_id):
            return {}
        return _hashes(Path(client.download_artifacts(run_id, "", tmp)))


def _model_artifacts(tracking_uri: str, location: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=location, dst_path=tmp, tracking_uri=tracking_uri
        )
        return _hashes(Path(path))


def _history(client: MlflowClient, run_id: str, key: str) -> set[tuple]:
    """A metric's full history as a set: a file store may hold a point twice."""
    return {(p.step, p.timestamp, _value(p.value)) for p in client.get_metric_history(run_id, key)}


def _inputs(run) -> list[tuple]:
    return sorted(
        (
            d.dataset.name,
            d.dataset.digest,
            d.dataset.source_type,
            d.dataset.source,
            d.dataset.schema,
            d.dataset.profile,
            tuple(sorted((t.key, t.value) for t in d.tags)),
        )
        for d in run.inputs.dataset_inputs
    )


def assert_same_run(source: MlflowClient, target: MlflowClient, run_id: str) -> int:
    """Compare one run; returns how many metric points were compared."""
    mine, theirs = source.get_run(run_id), target.get_run(run_id)
    for field in ("run_id", "run_name", "status", "start_time", "end_time", "user_id"):
        assert getattr(theirs.info, field) == getattr(mine.info, field), field
    assert theirs.info.lifecycle_stage == mine.info.lifecycle_stage
    assert theirs.data.params == mine.data.params
    assert mine.data.tags.items() <= theirs.data.tags.items()
    latest = {k: _value(v) for k, v in mine.data.metrics.items()}
    assert {k: _value(v) for k, v in theirs.data.metrics.items()} == latest
    points = 0
    for key in mine.data.metrics:
        history = _history(source, run_id, key)
        assert _history(target, run_id, key) == history, key
        points += len(history)
    assert _inputs(theirs) == _inputs(mine)
    mine_outputs = (
        [(o.model_id, o.step) for o in mine.outputs.model_outputs] if mine.outputs else []
    )
    their_outputs = (
        [(o.model_id, o.step) for o in theirs.outputs.model_outputs] if theirs.outputs else []
    )
    assert their_outputs == mine_outputs
    if mine.info.lifecycle_stage == "active":
        assert _run_artifacts(target, run_id) == _run_artifacts(source, run_id)
    return points


def assert_same_history(source_uri: str, target_uri: str, manifest: dict) -> None:
    """Everything in ``manifest`` (see build_source) reads back the same from the target."""
    source, target = MlflowClient(source_uri, source_uri), MlflowClient(target_uri, target_uri)
    for name in manifest["experiments"]:
        mine = source.get_experiment_by_name(name)
        theirs = target.get_experiment_by_name(name)
        assert theirs.lifecycle_stage == mine.lifecycle_stage
        assert mine.tags.items() <= theirs.tags.items()
        runs = source.search_runs([mine.experiment_id], run_view_type=ViewType.ALL)
        imported = target.search_runs([theirs.experiment_id], run_view_type=ViewType.ALL)
        assert {r.info.run_id for r in imported} == {r.info.run_id for r in runs}
    for run_id in manifest["runs"]:
        assert_same_run(source, target, run_id)
    child = target.get_run(manifest["child"])
    assert child.data.tags["mlflow.parentRunId"] == manifest["parent"]
    assert_same_model(source, target, source_uri, target_uri, manifest["model_id"])
    assert_same_registry(source, target, manifest["registered_model"])


def assert_same_model(
    source: MlflowClient, target: MlflowClient, source_uri: str, target_uri: str, model_id: str
) -> None:
    mine, theirs = source.get_logged_model(model_id), target.get_logged_model(model_id)
    for field in ("name", "status", "source_run_id", "creation_timestamp"):
        assert getattr(theirs, field) == getattr(mine, field), field
    # An unset type reads back as None from a local store and "" over REST.
    assert (theirs.model_type or "") == (mine.model_type or "")
    assert theirs.params == mine.params
    assert mine.tags.items() <= theirs.tags.items()

    def metrics(model) -> set[tuple]:
        return {(m.key, _value(m.value), m.step, m.run_id) for m in model.metrics or []}

    assert metrics(theirs) == metrics(mine)
    assert _model_artifacts(target_uri, theirs.artifact_location) == _model_artifacts(
        source_uri, mine.artifact_location
    )


def assert_same_registry(source: MlflowClient, target: MlflowClient, name: str) -> None:
    mine, theirs = source.get_registered_model(name), target.get_registered_model(name)
    assert (theirs.description, theirs.tags) == (mine.description, mine.tags)
    # Versions in aliases are numbers from a local store and strings over REST.
    assert {a: str(v) for a, v in theirs.aliases.items()} == {
        a: str(v) for a, v in mine.aliases.items()
    }
    assert theirs.creation_timestamp == mine.creation_timestamp

    def versions(client: MlflowClient) -> list[tuple]:
        return sorted(
            (
                int(v.version),
                v.run_id,
                v.source,
                v.status,
                v.current_stage,
                v.description or "",  # unset: None locally, "" over REST
                v.creation_timestamp,
                tuple(sorted(v.tags.items())),
            )
            for v in client.search_model_versions(f"name = '{name}'")
        )

    mine_versions, their_versions = versions(source), versions(target)
    assert their_versions == mine_versions
