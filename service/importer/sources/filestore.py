"""An ``mlruns/`` folder: MLflow's file store, read directly.

Layout (MLflow 1.x to 3.x)::

    mlruns/<exp>/meta.yaml, tags/<key>
    mlruns/<exp>/<run>/meta.yaml, params/<key>, tags/<key>, metrics/<key>,
                       inputs/<id>/meta.yaml, outputs/<model>/meta.yaml, artifacts/
    mlruns/<exp>/datasets/<id>/meta.yaml
    mlruns/<exp>/models/<model>/meta.yaml, params/, tags/, metrics/<key>, artifacts/
    mlruns/.trash/<exp>/...                 deleted experiments
    mlruns/models/<name>/meta.yaml, tags/, aliases/<alias>, version-<n>/meta.yaml, tags/

Keys may contain ``/``, so params, tags and metrics are files below nested folders.
A metric file has one point per line: ``timestamp value [step [dataset digest]]``; a
logged model's has ``timestamp value step run_id [dataset digest]``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

from service.errors import InvalidParameterValue
from service.importer.records import (
    SourceExperiment,
    SourceLoggedModel,
    SourceRegisteredModel,
    SourceRun,
)
from service.importer.sources.artifacts import local_tree, tree_for_uri
from service.importer.sources.base import ArtifactTree
from service.store.entities.common import KeyValue
from service.store.entities.registry import ModelVersion
from service.store.entities.tracking import Dataset, DatasetInput, MetricPoint, ModelOutput
from service.store.imports import (
    ExperimentImport,
    LoggedModelImport,
    RegisteredModelImport,
    RunImport,
)

RUN_STATUSES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
MODEL_STATUSES = {
    0: "LOGGED_MODEL_STATUS_UNSPECIFIED",
    1: "LOGGED_MODEL_PENDING",
    2: "LOGGED_MODEL_READY",
    3: "LOGGED_MODEL_UPLOAD_FAILED",
}
DELETED_VERSION_STAGE = "Deleted_Internal"
#: Folders inside an experiment's folder that are not runs.
EXPERIMENT_FOLDERS = frozenset({"tags", "datasets", "traces", "models"})
TRASH = ".trash"
REGISTRY = "models"


class FileStoreSource:
    def __init__(self, root: Path, artifacts_root: str | None = None) -> None:
        if not root.is_dir():
            raise InvalidParameterValue(f"{root} is not a folder")
        if not _is_file_store(root):
            hint = f"; did you mean {root / 'mlruns'}?" if _is_file_store(root / "mlruns") else ""
            raise InvalidParameterValue(
                f"{root} is not an mlruns/ folder: expected experiment folders with a "
                f"meta.yaml (such as mlruns/0/meta.yaml) or a models/ registry{hint}"
            )
        self.root = root.resolve()
        self.artifacts_root = artifacts_root
        self.description = f"mlruns folder {self.root}"
        self._experiment_dirs: dict[str, Path] = {}

    # --- tracking --------------------------------------------------------------------

    def experiments(self) -> Iterator[SourceExperiment]:
        for parent in (self.root, self.root / TRASH):
            for folder in _subfolders(parent):
                if folder.name in (TRASH, REGISTRY) or not (folder / "meta.yaml").is_file():
                    continue
                meta = _yaml(folder / "meta.yaml")
                experiment_id = str(meta["experiment_id"])
                self._experiment_dirs[experiment_id] = folder
                yield SourceExperiment(
                    experiment_id=experiment_id,
                    artifact_location=meta.get("artifact_location") or "",
                    data=ExperimentImport(
                        name=meta["name"],
                        lifecycle_stage=meta.get("lifecycle_stage") or "active",
                        creation_time=_int(meta.get("creation_time")),
                        last_update_time=_int(
                            meta.get("last_update_time") or meta.get("creation_time")
                        ),
                        tags=_key_values(folder / "tags"),
                    ),
                )

    def runs(self, experiment: SourceExperiment) -> Iterator[SourceRun]:
        folder = self._experiment_dirs[experiment.experiment_id]
        for run_dir in _subfolders(folder):
            if run_dir.name in EXPERIMENT_FOLDERS or not (run_dir / "meta.yaml").is_file():
                continue
            meta = _yaml(run_dir / "meta.yaml")
            tags = _key_values(run_dir / "tags")
            run_id = meta.get("run_id") or meta["run_uuid"]
            run_name = meta.get("run_name") or next(
                (t.value for t in tags if t.key == "mlflow.runName"), ""
            )
            datasets, model_inputs = _inputs(run_dir / "inputs", folder / "datasets")
            yield SourceRun(
                experiment_id=experiment.experiment_id,
                artifact_uri=meta.get("artifact_uri") or "",
                data=RunImport(
                    run_id=run_id,
                    name=run_name,
                    user_id=meta.get("user_id") or "",
                    status=RUN_STATUSES.get(_int(meta.get("status"), 1), "RUNNING"),
                    start_time=_int(meta.get("start_time")),
                    end_time=_optional_int(meta.get("end_time")),
                    lifecycle_stage=meta.get("lifecycle_stage") or "active",
                    deleted_time=_optional_int(meta.get("deleted_time")),
                    params=_key_values(run_dir / "params"),
                    tags=tags,
                    dataset_inputs=datasets,
                    model_inputs=model_inputs,
                    model_outputs=_outputs(run_dir / "outputs"),
                ),
                metric_keys=_keys(run_dir / "metrics"),
            )

    def metric_history(self, run: SourceRun, key: str) -> Iterator[MetricPoint]:
        path = self._run_dir(run) / "metrics" / key
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield _run_point(key, line)

    def point_count(self, run: SourceRun, key: str) -> int:
        with (self._run_dir(run) / "metrics" / key).open("rb") as lines:
            return sum(1 for line in lines if line.strip())

    def run_artifacts(self, run: SourceRun) -> ArtifactTree:
        return self._tree(run.artifact_uri, self._run_dir(run) / "artifacts")

    def logged_models(self, experiment: SourceExperiment) -> Iterator[SourceLoggedModel]:
        for folder in _subfolders(self._experiment_dirs[experiment.experiment_id] / "models"):
            if not (folder / "meta.yaml").is_file():
                continue
            meta = _yaml(folder / "meta.yaml")
            yield SourceLoggedModel(
                experiment_id=experiment.experiment_id,
                artifact_location=meta.get("artifact_location") or "",
                data=LoggedModelImport(
                    model_id=meta["model_id"],
                    name=meta.get("name") or "",
                    creation_timestamp_ms=_int(meta.get("creation_timestamp")),
                    last_updated_timestamp_ms=_int(
                        meta.get("last_updated_timestamp") or meta.get("creation_timestamp")
                    ),
                    status=MODEL_STATUSES.get(_int(meta.get("status")), MODEL_STATUSES[0]),
                    lifecycle_stage=meta.get("lifecycle_stage") or "active",
                    status_message=meta.get("status_message"),
                    model_type=meta.get("model_type") or "",
                    source_run_id=meta.get("source_run_id"),
                    tags=_key_values(folder / "tags"),
                    params=_key_values(folder / "params"),
                ),
            )

    def logged_model_metrics(self, model: SourceLoggedModel) -> Iterator[MetricPoint]:
        folder = self._model_dir(model) / "metrics"
        for key in _keys(folder):
            with (folder / key).open(encoding="utf-8") as lines:
                for line in lines:
                    if line.strip():
                        yield _model_point(key, line, model.data.model_id)

    def model_artifacts(self, model: SourceLoggedModel) -> ArtifactTree:
        return self._tree(model.artifact_location, self._model_dir(model) / "artifacts")

    # --- registry --------------------------------------------------------------------

    def registered_models(self) -> Iterator[SourceRegisteredModel]:
        for folder in _subfolders(self.root / REGISTRY):
            if not (folder / "meta.yaml").is_file():
                continue
            meta = _yaml(folder / "meta.yaml")
            versions: list[ModelVersion] = []
            last_version = 0
            for version_dir in _subfolders(folder):
                if not version_dir.name.startswith("version-"):
                    continue
                version = _yaml(version_dir / "meta.yaml")
                last_version = max(last_version, int(version["version"]))
                if version.get("current_stage") != DELETED_VERSION_STAGE:
                    versions.append(_version(version, _key_values(version_dir / "tags")))
            aliases = {
                alias.key: int(alias.value.strip()) for alias in _key_values(folder / "aliases")
            }
            yield SourceRegisteredModel(
                data=RegisteredModelImport(
                    name=meta["name"],
                    creation_time=_int(meta.get("creation_timestamp")),
                    last_updated_time=_int(
                        meta.get("last_updated_timestamp") or meta.get("creation_timestamp")
                    ),
                    description=meta.get("description") or None,
                    last_version=last_version,
                    tags=_key_values(folder / "tags"),
                ),
                versions=sorted(versions, key=lambda v: v.version),
                aliases=aliases,
            )

    def close(self) -> None:
        pass

    # --- helpers ---------------------------------------------------------------------

    def _run_dir(self, run: SourceRun) -> Path:
        return self._experiment_dirs[run.experiment_id] / run.data.run_id

    def _model_dir(self, model: SourceLoggedModel) -> Path:
        return self._experiment_dirs[model.experiment_id] / "models" / model.data.model_id

    def _tree(self, uri: str, beside: Path) -> ArtifactTree:
        """The files where ``uri`` points or, for a moved ``mlruns/``, in the folder itself."""
        parsed = urlparse(uri)
        if parsed.scheme in ("", "file"):
            path = Path(unquote(parsed.path) if parsed.scheme == "file" else uri)
            if not path.is_dir() and beside.is_dir():
                return local_tree(str(beside))
        return tree_for_uri(uri, self.artifacts_root)


def _is_file_store(folder: Path) -> bool:
    """Whether ``folder`` holds MLflow's file store: experiments, deleted ones or models."""
    return any(
        (child / "meta.yaml").is_file()
        for parent in (folder, folder / TRASH, folder / REGISTRY)
        for child in _subfolders(parent)
    )


def _subfolders(parent: Path) -> list[Path]:
    if not parent.is_dir():
        return []
    return sorted(entry for entry in parent.iterdir() if entry.is_dir())


def _yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _keys(folder: Path) -> list[str]:
    """The keys stored as files below ``folder`` (a key's ``/`` is a subfolder)."""
    if not folder.is_dir():
        return []
    keys = []
    for parent, _, names in os.walk(folder):
        for name in names:
            keys.append(Path(parent, name).relative_to(folder).as_posix())
    return sorted(keys)


def _key_values(folder: Path) -> list[KeyValue]:
    return [KeyValue(key, (folder / key).read_text(encoding="utf-8")) for key in _keys(folder)]


def _int(value: Any, default: int = 0) -> int:
    return default if value is None or value == "" else int(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _run_point(key: str, line: str) -> MetricPoint:
    parts = line.split()
    has_dataset = len(parts) == 5
    return MetricPoint(
        key=key,
        value=float(parts[1]),
        timestamp=int(parts[0]),
        step=int(parts[2]) if len(parts) >= 3 else 0,
        dataset_name=_none(parts[3]) if has_dataset else None,
        dataset_digest=_none(parts[4]) if has_dataset else None,
    )


def _model_point(key: str, line: str, model_id: str) -> MetricPoint:
    parts = line.split()
    has_dataset = len(parts) == 6
    return MetricPoint(
        key=key,
        value=float(parts[1]),
        timestamp=int(parts[0]),
        step=int(parts[2]),
        run_id=parts[3],
        model_id=model_id,
        dataset_name=_none(parts[4]) if has_dataset else None,
        dataset_digest=_none(parts[5]) if has_dataset else None,
    )


def _none(text: str) -> str | None:
    """The file store writes a missing dataset name as the word ``None``."""
    return None if text == "None" else text


def _inputs(folder: Path, datasets_dir: Path) -> tuple[list[DatasetInput], list[str]]:
    datasets: list[DatasetInput] = []
    models: list[str] = []
    for input_dir in _subfolders(folder):
        meta = _yaml(input_dir / "meta.yaml")
        if meta.get("source_type") == "DATASET":
            dataset = _yaml(datasets_dir / str(meta["source_id"]) / "meta.yaml")
            tags = [KeyValue(k, str(v)) for k, v in (meta.get("tags") or {}).items()]
            datasets.append(
                DatasetInput(
                    Dataset(
                        name=dataset["name"],
                        digest=dataset["digest"],
                        source_type=dataset.get("source_type") or "",
                        source=dataset.get("source") or "",
                        schema=dataset.get("schema"),
                        profile=dataset.get("profile"),
                    ),
                    tags,
                )
            )
        elif meta.get("source_type") == "MODEL":
            models.append(str(meta["source_id"]))
    return datasets, models


def _outputs(folder: Path) -> list[ModelOutput]:
    outputs = []
    for output_dir in _subfolders(folder):
        meta = _yaml(output_dir / "meta.yaml")
        outputs.append(ModelOutput(str(meta["source_id"]), _int(meta.get("step"))))
    return outputs


def _version(meta: dict[str, Any], tags: list[KeyValue]) -> ModelVersion:
    return ModelVersion(
        name=meta["name"],
        version=int(meta["version"]),
        creation_time=_int(meta.get("creation_timestamp")),
        last_updated_time=_int(
            meta.get("last_updated_timestamp") or meta.get("creation_timestamp")
        ),
        current_stage=meta.get("current_stage") or "None",
        source=meta.get("source") or "",
        status=meta.get("status") or "READY",
        description=meta.get("description") or None,
        user_id=meta.get("user_id") or None,
        run_id=meta.get("run_id") or None,
        run_link=meta.get("run_link") or None,
        status_message=meta.get("status_message") or None,
        storage_location=meta.get("storage_location") or None,
        model_id=meta.get("model_id") or None,
        tags=tags,
    )
