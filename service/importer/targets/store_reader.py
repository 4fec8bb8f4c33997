"""A Stratus store read back as an import source, so ``--verify`` can compare both sides
with the same code whatever the target is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from service.artifacts import ArtifactStore, artifact_path, proxied_path
from service.importer.records import (
    ArtifactFile,
    SourceExperiment,
    SourceLoggedModel,
    SourceRegisteredModel,
    SourceRun,
)
from service.importer.sources.base import ArtifactsUnavailable, ArtifactTree
from service.store import Store
from service.store.entities.common import Page
from service.store.entities.tracking import MetricPoint, ViewType
from service.store.imports import (
    ExperimentImport,
    LoggedModelImport,
    RegisteredModelImport,
    RunImport,
    derive,
)

T = TypeVar("T")
#: No filter, the default order and page size.
_EVERYTHING: dict[str, Any] = {"filter_string": None, "order_by": (), "max_results": None}


def _all(search: Callable[..., Page[T]], *args: Any, **query: Any) -> Iterator[T]:
    """Every item a paged store call returns, a page at a time."""
    token = None
    while True:
        page = search(*args, **query, page_token=token)
        yield from page.items
        token = page.next_page_token
        if not token:
            return


class StoreTree:
    """Files under one path of the artifact store."""

    def __init__(self, artifacts: ArtifactStore, root: str) -> None:
        self.artifacts = artifacts
        self.root = root

    def files(self) -> Iterator[ArtifactFile]:
        pending = [""]
        while pending:
            folder = pending.pop()
            full = f"{self.root}/{folder}".rstrip("/")
            for entry in self.artifacts.list(artifact_path(full, allow_root=True)):
                relative = f"{folder}/{entry.name}" if folder else entry.name
                if entry.is_dir:
                    pending.append(relative)
                else:
                    yield ArtifactFile(relative, entry.size or 0)

    def chunks(self, path: str) -> Iterator[bytes]:
        yield from self.artifacts.open_read(artifact_path(f"{self.root}/{path}")).chunks()


class StoreReader:
    def __init__(self, store: Store, artifacts: ArtifactStore) -> None:
        self.store = store
        self.artifacts = artifacts
        self.description = "the local store"

    def experiments(self) -> Iterator[SourceExperiment]:
        for exp in _all(self.store.experiments.search, view_type=ViewType.ALL, **_EVERYTHING):
            yield SourceExperiment(
                experiment_id=str(exp.experiment_id),
                artifact_location=exp.artifact_location,
                data=derive(ExperimentImport, exp),
            )

    def runs(self, experiment: SourceExperiment) -> Iterator[SourceRun]:
        found = _all(
            self.store.runs.search,
            experiment_ids=[int(experiment.experiment_id)],
            view_type=ViewType.ALL,
            **_EVERYTHING,
        )
        for run in found:
            yield SourceRun(
                experiment_id=experiment.experiment_id,
                artifact_uri=run.info.artifact_uri,
                data=derive(RunImport, run.info, run, name=run.info.run_name),
                metric_keys=sorted({m.key for m in run.metrics}),
            )

    def metric_history(self, run: SourceRun, key: str) -> Iterator[MetricPoint]:
        rows = _all(self.store.metrics.history, run.data.run_id, key, max_results=25_000)
        for name, value, is_nan, timestamp, step, model_id, dataset, digest in rows:
            yield MetricPoint(
                key=name,
                value=float("nan") if is_nan else value,
                timestamp=timestamp,
                step=step,
                model_id=model_id,
                dataset_name=dataset,
                dataset_digest=digest,
            )

    def point_count(self, run: SourceRun, key: str) -> int:
        return sum(1 for _ in self.metric_history(run, key))

    def run_artifacts(self, run: SourceRun) -> ArtifactTree:
        return self._tree(run.artifact_uri)

    def logged_models(self, experiment: SourceExperiment) -> Iterator[SourceLoggedModel]:
        ids = [int(experiment.experiment_id)]
        for model in _all(self.store.logged_models.search, experiment_ids=ids, **_EVERYTHING):
            yield SourceLoggedModel(
                experiment_id=experiment.experiment_id,
                artifact_location=model.artifact_location,
                data=derive(LoggedModelImport, model),
            )

    def logged_model_metrics(self, model: SourceLoggedModel) -> Iterator[MetricPoint]:
        return iter(self.store.logged_models.get(model.data.model_id).metrics)

    def model_artifacts(self, model: SourceLoggedModel) -> ArtifactTree:
        return self._tree(model.artifact_location)

    def registered_models(self) -> Iterator[SourceRegisteredModel]:
        for model in list(_all(self.store.registered_models.search, **_EVERYTHING)):
            escaped = model.name.replace("\\", "\\\\").replace("'", "\\'")
            versions = _all(
                self.store.model_versions.search,
                **{**_EVERYTHING, "filter_string": f"name = '{escaped}'"},
            )
            yield SourceRegisteredModel(
                data=derive(RegisteredModelImport, model),
                versions=sorted(versions, key=lambda v: v.version),
                aliases={a.alias: a.version for a in model.aliases},
            )

    def close(self) -> None:
        pass

    def _tree(self, uri: str) -> ArtifactTree:
        base = proxied_path(uri)
        if base is None:
            raise ArtifactsUnavailable(f"{uri} is not in Stratus's artifact store")
        return StoreTree(self.artifacts, base)
