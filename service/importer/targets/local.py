"""The local target: the database and artifact store from this machine's settings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from service.artifacts import ArtifactStore, artifact_path, open_artifact_store, proxied_path
from service.config import Settings
from service.importer.sources.base import ArtifactsUnavailable, Source
from service.store import Store, migrate
from service.store.db import Database, open_database
from service.store.entities.registry import ModelVersion
from service.store.entities.tracking import MetricPoint
from service.store.imports import (
    ExperimentImport,
    ImportStore,
    LoggedModelImport,
    LoggedModelPlaced,
    Placement,
    RegisteredModelImport,
    Result,
    RunImport,
    RunPlaced,
)
from service.store.statistics import analyse


class LocalTarget:
    def __init__(self, database: Database, artifacts: ArtifactStore) -> None:
        self.database = database
        self.store = ImportStore(database)
        self.artifacts = artifacts
        url = database.engine.url.render_as_string(hide_password=True)
        self.description = f"the local store ({url}, artifacts in {artifacts.root})"

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalTarget:
        database = open_database(settings)
        migrate.upgrade(database)
        return cls(database, open_artifact_store(settings.resolved_artifact_root))

    def place_experiment(
        self, experiment: ExperimentImport, wanted_id: int | None, *, exact: bool, dry_run: bool
    ) -> Placement:
        return self.store.place_experiment(experiment, wanted_id, exact=exact, dry_run=dry_run)

    def import_run(self, experiment_id: int, run: RunImport) -> RunPlaced:
        return self.store.import_run(experiment_id, run)

    def import_metrics(self, run_id: str, points: Sequence[MetricPoint]) -> None:
        self.store.import_metrics(run_id, points)

    def import_logged_model(
        self, experiment_id: int, model: LoggedModelImport
    ) -> LoggedModelPlaced:
        return self.store.import_logged_model(experiment_id, model)

    def import_model_metrics(self, model_id: str, points: Sequence[MetricPoint]) -> int:
        return self.store.import_model_metrics(model_id, points)

    def import_registered_model(self, model: RegisteredModelImport) -> Result:
        return self.store.import_registered_model(model)

    def import_model_version(self, version: ModelVersion) -> Result:
        return self.store.import_model_version(version)

    def import_alias(self, name: str, alias: str, version: int) -> Result:
        return self.store.import_alias(name, alias, version)

    def write_artifact(self, location: str, path: str, chunks: Iterable[bytes]) -> None:
        base = proxied_path(location)
        if base is None:
            raise ArtifactsUnavailable(
                f"the target location {location} is not in Stratus's artifact store"
            )
        writer = self.artifacts.open_write(artifact_path(f"{base}/{path}" if base else path))
        try:
            for chunk in chunks:
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        writer.commit()

    def finish(self) -> None:
        """The rows just written get planner statistics before the first search needs them.

        A read connection is in autocommit on PostgreSQL, where ``analyse`` can vacuum too.
        """
        with self.database.read() as conn:
            analyse(conn)

    def reader(self) -> Source:
        from service.importer.targets.store_reader import StoreReader

        return StoreReader(Store.over(self.database), self.artifacts)

    def close(self) -> None:
        self.database.dispose()
