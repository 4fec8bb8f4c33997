"""A Stratus store read back as an import source, so ``--verify`` can compare both sides
with the same code whatever the target is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

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
from service.store.entities import MetricPoint, Page, ViewType
from service.store.imports import (
    ExperimentImport,
    LoggedModelImport,
    RegisteredModelImport,
    RunImport,
)

T = TypeVar("T")


def _all(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    token = None
    while True:
        page = fetch(token)
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
        def fetch(token: str | None) -> Page:
            return self.store.experiments.search(
                view_type=ViewType.ALL,
                filter_string=None,
                order_by=[],
                max_results=None,
                page_token=token,
            )

        for exp in _all(fetch):
            yield SourceExperiment(
                experiment_id=str(exp.experiment_id),
                artifact_location=exp.artifact_location,
                data=ExperimentImport(
                    name=exp.name,
                    lifecycle_stage=exp.lifecycle_stage,
                    creation_time=exp.creation_time,
                    last_update_time=exp.last_update_time,
                    tags=exp.tags,
                ),
            )

    def runs(self, experiment: SourceExperiment) -> Iterator[SourceRun]:
        def fetch(token: str | None) -> Page:
            return self.store.runs.search(
                experiment_ids=[int(experiment.experiment_id)],
                filter_string=None,
                view_type=ViewType.ALL,
                max_results=None,
                order_by=[],
                page_token=token,
            )

        for run in _all(fetch):
            info = run.info
            yield SourceRun(
                experiment_id=experiment.experiment_id,
                artifact_uri=info.artifact_uri,
                data=RunImport(
                    run_id=info.run_id,
                    name=info.run_name,
                    user_id=info.user_id,
                    status=info.status,
                    start_time=info.start_time,
                    end_time=info.end_time,
                    lifecycle_stage=info.lifecycle_stage,
                    params=run.params,
                    tags=run.tags,
                    dataset_inputs=run.dataset_inputs,
                    model_inputs=run.model_inputs,
                    model_outputs=run.model_outputs,
                ),
                metric_keys=sorted({m.key for m in run.metrics}),
            )

    def metric_history(self, run: SourceRun, key: str) -> Iterator[MetricPoint]:
        rows = _all(
            lambda token: self.store.metrics.history(
                run.data.run_id, key, max_results=25_000, page_token=token
            )
        )
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
        def fetch(token: str | None) -> Page:
            return self.store.logged_models.search(
                experiment_ids=[int(experiment.experiment_id)],
                filter_string=None,
                order_by=[],
                max_results=None,
                page_token=token,
            )

        for model in _all(fetch):
            yield SourceLoggedModel(
                experiment_id=experiment.experiment_id,
                artifact_location=model.artifact_location,
                data=LoggedModelImport(
                    model_id=model.model_id,
                    name=model.name,
                    creation_timestamp_ms=model.creation_timestamp_ms,
                    last_updated_timestamp_ms=model.last_updated_timestamp_ms,
                    status=model.status,
                    lifecycle_stage=model.lifecycle_stage,
                    status_message=model.status_message,
                    model_type=model.model_type,
                    source_run_id=model.source_run_id,
                    tags=model.tags,
                    params=model.params,
                ),
            )

    def logged_model_metrics(self, model: SourceLoggedModel) -> Iterator[MetricPoint]:
        return iter(self.store.logged_models.get(model.data.model_id).metrics)

    def model_artifacts(self, model: SourceLoggedModel) -> ArtifactTree:
        return self._tree(model.artifact_location)

    def registered_models(self) -> Iterator[SourceRegisteredModel]:
        def fetch(token: str | None) -> Page:
            return self.store.registered_models.search(
                filter_string=None, order_by=[], max_results=None, page_token=token
            )

        for model in list(_all(fetch)):
            escaped = model.name.replace("\\", "\\\\").replace("'", "\\'")
            versions = list(
                _all(
                    lambda token, escaped=escaped: self.store.model_versions.search(
                        filter_string=f"name = '{escaped}'",
                        order_by=[],
                        max_results=None,
                        page_token=token,
                    )
                )
            )
            yield SourceRegisteredModel(
                data=RegisteredModelImport(
                    name=model.name,
                    creation_time=model.creation_time,
                    last_updated_time=model.last_updated_time,
                    description=model.description,
                    tags=model.tags,
                ),
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
