"""A Stratus server as the target: records through its import endpoints, files through
the proxied artifact API, with the mlflow client's credentials."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote, urlparse

from service.config import ClientCredentials
from service.importer.client import ServerError, call, check, open_client
from service.importer.sources.artifacts import PROXIED_SCHEME
from service.importer.sources.base import ArtifactsUnavailable, Source
from service.store.entities.registry import ModelVersion
from service.store.entities.tracking import MetricPoint
from service.store.imports import (
    ExperimentImport,
    LoggedModelImport,
    LoggedModelPlaced,
    Outcome,
    Placement,
    RegisteredModelImport,
    Result,
    RunImport,
    RunPlaced,
)

IMPORT_API = "/api/2.0/stratus/import"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


class RemoteTarget:
    def __init__(self, url: str, credentials: ClientCredentials) -> None:
        self.url = url
        self.credentials = credentials
        self.client = open_client(url, credentials)
        self.description = f"the Stratus server at {url}"

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = call(self.client, "POST", f"{IMPORT_API}/{path}", json=body)
            return answer
        except ServerError as exc:
            if exc.status in (404, 405):  # MLflow's JSON 404, or a plain server's HTML one
                raise ServerError(
                    exc.status,
                    exc.error_code,
                    f"{self.url} is not a Stratus server: it has no import API ({IMPORT_API})",
                ) from exc
            raise

    def place_experiment(
        self, experiment: ExperimentImport, wanted_id: int | None, *, exact: bool, dry_run: bool
    ) -> Placement:
        answer = self._post(
            "experiments",
            {
                "experiment": dataclasses.asdict(experiment),
                "wanted_id": wanted_id,
                "exact": exact,
                "dry_run": dry_run,
            },
        )
        experiment_id = answer.get("experiment_id")
        return Placement(
            None if experiment_id is None else int(experiment_id),
            Outcome(answer["outcome"]),
            answer.get("note"),
        )

    def import_run(self, experiment_id: int, run: RunImport) -> RunPlaced:
        body = {"experiment_id": experiment_id, "run": _record(run)}
        answer = self._post("runs", body)
        return RunPlaced(_result(answer), answer.get("artifact_uri"))

    def import_metrics(self, run_id: str, points: Sequence[MetricPoint]) -> None:
        self._post("metrics", {"run_id": run_id, "metrics": [_point(p) for p in points]})

    def import_logged_model(
        self, experiment_id: int, model: LoggedModelImport
    ) -> LoggedModelPlaced:
        body = {"experiment_id": experiment_id, "model": _record(model)}
        answer = self._post("logged-models", body)
        return LoggedModelPlaced(_result(answer), answer.get("artifact_location"))

    def import_model_metrics(self, model_id: str, points: Sequence[MetricPoint]) -> int:
        body = {"model_id": model_id, "metrics": [_point(p) for p in points]}
        return int(self._post("logged-model-metrics", body).get("missing", 0))

    def import_registered_model(self, model: RegisteredModelImport) -> Result:
        return _result(self._post("registered-models", _record(model)))

    def import_model_version(self, version: ModelVersion) -> Result:
        body = _record(version)
        del body["aliases"]  # they travel on their own (import_alias)
        return _result(self._post("model-versions", body))

    def import_alias(self, name: str, alias: str, version: int) -> Result:
        return _result(self._post("aliases", {"name": name, "alias": alias, "version": version}))

    def write_artifact(self, location: str, path: str, chunks: Iterable[bytes]) -> None:
        parsed = urlparse(location)
        if parsed.scheme != PROXIED_SCHEME:
            raise ArtifactsUnavailable(
                f"the target location {location} is not served by the Stratus server"
            )
        full = f"{parsed.path.strip('/')}/{path}"
        response = self.client.put(f"{ARTIFACTS}/{quote(full, safe='/')}", content=chunks)
        check(response)

    def finish(self) -> None:
        """Nothing: the server's database is analysed by its autovacuum, not over REST
        (until then its searches take the plan shape for tables without statistics)."""

    def reader(self) -> Source:
        from service.importer.sources.server import ServerSource

        return ServerSource(self.url, self.credentials)

    def close(self) -> None:
        self.client.close()


def _record(record: Any) -> dict[str, Any]:
    """A store record as the import API's JSON (field names are the same)."""
    return dataclasses.asdict(record)


def _point(point: MetricPoint) -> dict[str, Any]:
    body = dataclasses.asdict(point)
    value = point.value
    if math.isnan(value):
        body["value"] = "NaN"
    elif math.isinf(value):
        body["value"] = "Infinity" if value > 0 else "-Infinity"
    return {k: v for k, v in body.items() if v is not None}


def _result(answer: dict[str, Any]) -> Result:
    return Result(Outcome(answer["outcome"]), list(answer.get("notes", [])))
