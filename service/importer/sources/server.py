"""A live MLflow-compatible tracking server (``mlflow server``, Databricks-free), over REST.

Only the public API is used: experiments, runs and logged models by search (deleted
ones included), metric histories page by page, the registry by search, and artifacts
through the proxied ``mlflow-artifacts`` API when the server serves them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlparse

import httpx

from service.config import ClientCredentials
from service.importer.client import ServerError, call, check, open_client
from service.importer.records import (
    ArtifactFile,
    SourceExperiment,
    SourceLoggedModel,
    SourceRegisteredModel,
    SourceRun,
)
from service.importer.sources.artifacts import CHUNK_BYTES, PROXIED_SCHEME, tree_for_uri
from service.importer.sources.base import ArtifactsUnavailable, ArtifactTree
from service.store.entities.common import KeyValue
from service.store.entities.registry import ModelVersion
from service.store.entities.tracking import Dataset, DatasetInput, MetricPoint, ModelOutput
from service.store.imports import (
    ExperimentImport,
    LoggedModelImport,
    RegisteredModelImport,
    RunImport,
)

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
HISTORY_PAGE = 25_000


class ProxiedTree:
    """Files under ``root`` of a server's proxied artifact API."""

    def __init__(self, client: httpx.Client, root: str) -> None:
        self.client = client
        self.root = root.strip("/")

    def files(self) -> Iterator[ArtifactFile]:
        pending = [""]
        while pending:
            folder = pending.pop()
            path = f"{self.root}/{folder}".rstrip("/")
            listing = call(self.client, "GET", ARTIFACTS, params={"path": path})
            for entry in sorted(listing.get("files", []), key=lambda e: e["path"]):
                relative = posixpath.join(folder, posixpath.basename(entry["path"]))
                if entry.get("is_dir"):
                    pending.append(relative)
                else:
                    yield ArtifactFile(relative, int(entry.get("file_size") or 0))

    def chunks(self, path: str) -> Iterator[bytes]:
        url = f"{ARTIFACTS}/{quote(f'{self.root}/{path}', safe='/')}"
        with self.client.stream("GET", url) as response:
            if not response.is_success:
                response.read()
                check(response)
            yield from response.iter_bytes(CHUNK_BYTES)


def proxied_tree(client: httpx.Client, uri: str) -> ProxiedTree:
    return ProxiedTree(client, urlparse(uri).path)


class ServerSource:
    def __init__(self, url: str, credentials: ClientCredentials) -> None:
        self.client = open_client(url, credentials)
        self.description = f"tracking server {url}"
        self._model_metrics: dict[str, list[dict[str, Any]]] = {}

    def _pages(
        self, method: str, path: str, field: str, **request: Any
    ) -> Iterator[dict[str, Any]]:
        token = None
        while True:
            if method == "GET":
                params = {**request, **({"page_token": token} if token else {})}
                page = call(self.client, "GET", f"{API}/{path}", params=params)
            else:
                body = {**request, **({"page_token": token} if token else {})}
                page = call(self.client, "POST", f"{API}/{path}", json=body)
            yield from page.get(field, [])
            token = page.get("next_page_token")
            if not token:
                return

    # --- tracking --------------------------------------------------------------------

    def experiments(self) -> Iterator[SourceExperiment]:
        for exp in self._pages(
            "POST", "experiments/search", "experiments", max_results=1000, view_type="ALL"
        ):
            yield SourceExperiment(
                experiment_id=str(exp["experiment_id"]),
                artifact_location=exp.get("artifact_location", ""),
                data=ExperimentImport(
                    name=exp["name"],
                    lifecycle_stage=exp.get("lifecycle_stage", "active"),
                    creation_time=int(exp.get("creation_time", 0)),
                    last_update_time=int(exp.get("last_update_time", 0)),
                    tags=_key_values(exp.get("tags")),
                ),
            )

    def runs(self, experiment: SourceExperiment) -> Iterator[SourceRun]:
        for run in self._pages(
            "POST",
            "runs/search",
            "runs",
            experiment_ids=[experiment.experiment_id],
            run_view_type="ALL",
            max_results=1000,
        ):
            info, data = run["info"], run.get("data", {})
            inputs, outputs = run.get("inputs", {}), run.get("outputs", {})
            yield SourceRun(
                experiment_id=experiment.experiment_id,
                artifact_uri=info.get("artifact_uri", ""),
                data=RunImport(
                    run_id=info["run_id"],
                    name=info.get("run_name", ""),
                    user_id=info.get("user_id", ""),
                    status=info.get("status", "RUNNING"),
                    start_time=int(info.get("start_time", 0)),
                    end_time=_optional_int(info.get("end_time")),
                    lifecycle_stage=info.get("lifecycle_stage", "active"),
                    params=_key_values(data.get("params")),
                    tags=_key_values(data.get("tags")),
                    dataset_inputs=[_dataset_input(d) for d in inputs.get("dataset_inputs", [])],
                    model_inputs=[m["model_id"] for m in inputs.get("model_inputs", [])],
                    model_outputs=[
                        ModelOutput(m["model_id"], int(m.get("step", 0)))
                        for m in outputs.get("model_outputs", [])
                    ],
                ),
                metric_keys=sorted({m["key"] for m in data.get("metrics", [])}),
            )

    def metric_history(self, run: SourceRun, key: str) -> Iterator[MetricPoint]:
        for point in self._pages(
            "GET",
            "metrics/get-history",
            "metrics",
            run_id=run.data.run_id,
            metric_key=key,
            max_results=HISTORY_PAGE,
        ):
            yield _point(point)

    def point_count(self, run: SourceRun, key: str) -> int:
        return sum(1 for _ in self.metric_history(run, key))

    def run_artifacts(self, run: SourceRun) -> ArtifactTree:
        if urlparse(run.artifact_uri).scheme == PROXIED_SCHEME:
            return proxied_tree(self.client, run.artifact_uri)
        listing = call(
            self.client, "GET", f"{API}/artifacts/list", params={"run_id": run.data.run_id}
        )
        if not listing.get("files"):
            return _EmptyTree()
        return self._direct(run.artifact_uri)

    def logged_models(self, experiment: SourceExperiment) -> Iterator[SourceLoggedModel]:
        try:
            found = list(
                self._pages(
                    "POST",
                    "logged-models/search",
                    "models",
                    experiment_ids=[experiment.experiment_id],
                    max_results=100,
                )
            )
        except ServerError as exc:
            if exc.status == 404:  # a server older than MLflow 3: no logged models
                return
            raise
        for model in found:
            info, data = model["info"], model.get("data", {})
            self._model_metrics[info["model_id"]] = data.get("metrics", [])
            yield SourceLoggedModel(
                experiment_id=experiment.experiment_id,
                artifact_location=info.get("artifact_uri", ""),
                data=LoggedModelImport(
                    model_id=info["model_id"],
                    name=info.get("name", ""),
                    creation_timestamp_ms=int(info.get("creation_timestamp_ms", 0)),
                    last_updated_timestamp_ms=int(info.get("last_updated_timestamp_ms", 0)),
                    status=info.get("status", "LOGGED_MODEL_STATUS_UNSPECIFIED"),
                    lifecycle_stage="active",
                    status_message=info.get("status_message"),
                    model_type=info.get("model_type", ""),
                    source_run_id=info.get("source_run_id"),
                    tags=_key_values(info.get("tags")),
                    params=_key_values(data.get("params")),
                ),
            )

    def logged_model_metrics(self, model: SourceLoggedModel) -> Iterator[MetricPoint]:
        for point in self._model_metrics.pop(model.data.model_id, []):
            yield _point(point, model_id=model.data.model_id)

    def model_artifacts(self, model: SourceLoggedModel) -> ArtifactTree:
        if urlparse(model.artifact_location).scheme == PROXIED_SCHEME:
            return proxied_tree(self.client, model.artifact_location)
        return self._direct(model.artifact_location)

    # --- registry --------------------------------------------------------------------

    def registered_models(self) -> Iterator[SourceRegisteredModel]:
        for model in list(
            self._pages("GET", "registered-models/search", "registered_models", max_results=1000)
        ):
            name = model["name"]
            escaped = name.replace("\\", "\\\\").replace("'", "\\'")
            versions = [
                _version(v)
                for v in self._pages(
                    "GET",
                    "model-versions/search",
                    "model_versions",
                    filter=f"name = '{escaped}'",
                    max_results=10_000,
                )
            ]
            yield SourceRegisteredModel(
                data=RegisteredModelImport(
                    name=name,
                    creation_time=int(model.get("creation_timestamp", 0)),
                    last_updated_time=int(model.get("last_updated_timestamp", 0)),
                    description=model.get("description") or None,
                    last_version=max((v.version for v in versions), default=0),
                    tags=_key_values(model.get("tags")),
                ),
                versions=sorted(versions, key=lambda v: v.version),
                aliases={a["alias"]: int(a["version"]) for a in model.get("aliases", [])},
            )

    def close(self) -> None:
        self.client.close()

    def _direct(self, uri: str) -> ArtifactTree:
        """Files the server does not proxy: readable only if they are reachable from here."""
        tree = tree_for_uri(uri, None)
        parsed = urlparse(uri)
        if parsed.scheme in ("", "file") and not any(True for _ in tree.files()):
            raise ArtifactsUnavailable(
                f"{uri} is on the server's disk and not reachable from here; run the import "
                "on that machine or have the server proxy artifacts"
            )
        return tree


class _EmptyTree:
    def files(self) -> Iterator[ArtifactFile]:
        return iter(())

    def chunks(self, path: str) -> Iterator[bytes]:
        raise FileNotFoundError(path)


def _key_values(items: list[dict[str, Any]] | None) -> list[KeyValue]:
    return [KeyValue(item["key"], item.get("value", "")) for item in items or []]


def _optional_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _point(point: dict[str, Any], model_id: str | None = None) -> MetricPoint:
    return MetricPoint(
        key=point["key"],
        value=float(point.get("value", 0.0)),
        timestamp=int(point.get("timestamp", 0)),
        step=int(point.get("step", 0)),
        model_id=model_id,
        dataset_name=point.get("dataset_name"),
        dataset_digest=point.get("dataset_digest"),
        run_id=point.get("run_id"),
    )


def _dataset_input(item: dict[str, Any]) -> DatasetInput:
    dataset = item["dataset"]
    return DatasetInput(
        Dataset(
            name=dataset["name"],
            digest=dataset["digest"],
            source_type=dataset.get("source_type", ""),
            source=dataset.get("source", ""),
            schema=dataset.get("schema"),
            profile=dataset.get("profile"),
        ),
        _key_values(item.get("tags")),
    )


def _version(item: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=item["name"],
        version=int(item["version"]),
        creation_time=int(item.get("creation_timestamp", 0)),
        last_updated_time=int(item.get("last_updated_timestamp", 0)),
        current_stage=item.get("current_stage", "None"),
        source=item.get("source", ""),
        status=item.get("status", "READY"),
        description=item.get("description") or None,
        user_id=item.get("user_id") or None,
        run_id=item.get("run_id") or None,
        run_link=item.get("run_link") or None,
        status_message=item.get("status_message") or None,
        model_id=item.get("model_id") or None,
        tags=_key_values(item.get("tags")),
    )
