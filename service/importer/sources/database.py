"""An MLflow SQL database (``sqlite:///mlflow.db``, ``postgresql://…``, ``mysql://…``).

The schema is read by reflection, not by importing mlflow: columns that older MLflow
versions lack (``deleted_time``, ``model_id``, the logged-model tables…) are simply
absent from what is imported. Runs are read a page at a time and each metric history
streams through its own query, so memory stays flat.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url

from service.errors import InvalidParameterValue
from service.importer.locations import is_local, normalise
from service.importer.records import (
    SourceExperiment,
    SourceLoggedModel,
    SourceRegisteredModel,
    SourceRun,
)
from service.importer.sources.artifacts import tree_for_uri
from service.importer.sources.base import ArtifactTree
from service.importer.sources.filestore import DELETED_VERSION_STAGE, MODEL_STATUSES
from service.store.entities.common import KeyValue
from service.store.entities.registry import ModelVersion
from service.store.entities.tracking import Dataset, DatasetInput, MetricPoint, ModelOutput
from service.store.imports import (
    ExperimentImport,
    LoggedModelImport,
    RegisteredModelImport,
    RunImport,
)

RUN_PAGE = 500
STREAM_ROWS = 10_000
TABLES = (
    "experiments",
    "experiment_tags",
    "runs",
    "params",
    "tags",
    "metrics",
    "datasets",
    "inputs",
    "input_tags",
    "logged_models",
    "logged_model_tags",
    "logged_model_params",
    "logged_model_metrics",
    "registered_models",
    "registered_model_tags",
    "model_versions",
    "model_version_tags",
    "registered_model_aliases",
)


class DatabaseSource:
    def __init__(self, url: str, artifacts_root: str | None = None) -> None:
        self.engine = sa.create_engine(url)
        self.artifacts_root = artifacts_root
        self.description = f"MLflow database {make_url(url).render_as_string(hide_password=True)}"
        parsed = make_url(url)
        sqlite = parsed.get_backend_name() == "sqlite"
        if sqlite and not Path(parsed.database or "").is_file():
            raise InvalidParameterValue(f"No database file at {parsed.database}")
        metadata = sa.MetaData()
        try:
            metadata.reflect(self.engine, only=lambda name, _: name in TABLES)
        except sa.exc.DatabaseError as exc:
            reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
            if sqlite:
                raise InvalidParameterValue(
                    f"{parsed.database} is not an SQLite database ({reason})"
                ) from exc
            raise InvalidParameterValue(f"Cannot read {self.description}: {reason}") from exc
        self.t = metadata.tables
        if "experiments" not in self.t or "runs" not in self.t:
            raise InvalidParameterValue(f"{self.description} has no MLflow tables")
        self.moved = self._moved_folders()

    def _moved_folders(self) -> dict[str, str]:
        """Recorded local artifact folders -> where they are on this machine.

        MLflow records absolute paths (``/home/me/proj/mlruns/1/<run>/artifacts``), so a
        database copied from another machine points where nothing is. Each experiment's
        folder sits in an artifact folder (``…/mlruns``); when that is missing here, its
        files must be at ``--artifacts-root``, or the import would silently drop them.
        """
        experiments = self.t["experiments"]
        with self.engine.connect() as conn:
            locations = conn.scalars(sa.select(experiments.c.artifact_location).distinct())
            recorded = {
                posixpath.dirname(normalise(location))
                for location in locations
                if location and is_local(location)
            }
        missing = sorted(folder for folder in recorded if not Path(folder).is_dir())
        if not missing:
            return {}
        if self.artifacts_root is None:
            raise InvalidParameterValue(
                f"The artifact folder this database records is not on this machine: "
                f"{', '.join(missing)}. Copy it there, or pass --artifacts-root with the "
                "folder that holds it now (if no run logged artifacts, create it empty)"
            )
        if is_local(self.artifacts_root) and not Path(normalise(self.artifacts_root)).is_dir():
            raise InvalidParameterValue(f"--artifacts-root {self.artifacts_root} is not a folder")
        return dict.fromkeys(missing, self.artifacts_root)

    def _table(self, name: str) -> sa.Table | None:
        return self.t.get(name)

    # --- tracking --------------------------------------------------------------------

    def experiments(self) -> Iterator[SourceExperiment]:
        experiments = self.t["experiments"]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(experiments).order_by(experiments.c.experiment_id))
            found = rows.mappings().all()
            tags = _grouped(conn, self.t["experiment_tags"], "experiment_id", "key", "value")
        for row in found:
            yield SourceExperiment(
                experiment_id=str(row["experiment_id"]),
                artifact_location=row["artifact_location"] or "",
                data=ExperimentImport(
                    name=row["name"],
                    lifecycle_stage=row["lifecycle_stage"] or "active",
                    creation_time=row.get("creation_time") or 0,
                    last_update_time=row.get("last_update_time") or row.get("creation_time") or 0,
                    tags=tags.get(row["experiment_id"], []),
                ),
            )

    def runs(self, experiment: SourceExperiment) -> Iterator[SourceRun]:
        runs = self.t["runs"]
        after = ""
        while True:
            with self.engine.connect() as conn:
                page = (
                    conn.execute(
                        sa.select(runs)
                        .where(
                            runs.c.experiment_id == int(experiment.experiment_id),
                            runs.c.run_uuid > after,
                        )
                        .order_by(runs.c.run_uuid)
                        .limit(RUN_PAGE)
                    )
                    .mappings()
                    .all()
                )
                if not page:
                    return
                found = self._runs(conn, experiment.experiment_id, page)
            yield from found
            after = page[-1]["run_uuid"]

    def _runs(
        self, conn: Connection, experiment_id: str, page: Sequence[sa.RowMapping]
    ) -> list[SourceRun]:
        ids = [row["run_uuid"] for row in page]
        params = _grouped(conn, self.t["params"], "run_uuid", "key", "value", ids)
        tags = _grouped(conn, self.t["tags"], "run_uuid", "key", "value", ids)
        metrics = self.t["metrics"]
        keys: dict[str, list[str]] = {}
        for run_id, key in conn.execute(
            sa.select(metrics.c.run_uuid, metrics.c.key)
            .where(metrics.c.run_uuid.in_(ids))
            .distinct()
            .order_by(metrics.c.run_uuid, metrics.c.key)
        ):
            keys.setdefault(run_id, []).append(key)
        datasets, model_inputs, outputs = self._links(conn, ids)
        return [
            SourceRun(
                experiment_id=experiment_id,
                artifact_uri=row["artifact_uri"] or "",
                data=RunImport(
                    run_id=row["run_uuid"],
                    name=row["name"] or "",
                    user_id=row["user_id"] or "",
                    status=row["status"] or "RUNNING",
                    start_time=row["start_time"] or 0,
                    end_time=row["end_time"],
                    lifecycle_stage=row["lifecycle_stage"] or "active",
                    deleted_time=row.get("deleted_time"),
                    params=params.get(row["run_uuid"], []),
                    tags=tags.get(row["run_uuid"], []),
                    dataset_inputs=datasets.get(row["run_uuid"], []),
                    model_inputs=model_inputs.get(row["run_uuid"], []),
                    model_outputs=outputs.get(row["run_uuid"], []),
                ),
                metric_keys=keys.get(row["run_uuid"], []),
            )
            for row in page
        ]

    def _links(
        self, conn: Connection, run_ids: list[str]
    ) -> tuple[dict[str, list[DatasetInput]], dict[str, list[str]], dict[str, list[ModelOutput]]]:
        """Dataset inputs, model inputs and model outputs, from MLflow's ``inputs`` graph."""
        inputs, datasets = self._table("inputs"), self._table("datasets")
        found: dict[str, list[DatasetInput]] = {}
        model_inputs: dict[str, list[str]] = {}
        outputs: dict[str, list[ModelOutput]] = {}
        if inputs is None or datasets is None:
            return found, model_inputs, outputs
        input_tags = _grouped(conn, self.t["input_tags"], "input_uuid", "name", "value")
        query = (
            sa.select(inputs.c.input_uuid, inputs.c.destination_id, datasets)
            .join(datasets, datasets.c.dataset_uuid == inputs.c.source_id)
            .where(
                inputs.c.source_type == "DATASET",
                inputs.c.destination_type == "RUN",
                inputs.c.destination_id.in_(run_ids),
            )
            .order_by(inputs.c.destination_id, datasets.c.name)
        )
        for row in conn.execute(query).mappings():
            dataset = Dataset(
                name=row["name"],
                digest=row["digest"],
                source_type=row["dataset_source_type"] or "",
                source=row["dataset_source"] or "",
                schema=row["dataset_schema"],
                profile=row["dataset_profile"],
            )
            tags = input_tags.get(row["input_uuid"], [])
            found.setdefault(row["destination_id"], []).append(DatasetInput(dataset, tags))
        step = inputs.c.step if "step" in inputs.c else sa.literal(0)
        query = sa.select(
            inputs.c.source_type, inputs.c.source_id, inputs.c.destination_id, step.label("step")
        ).where(
            inputs.c.source_type.in_(("RUN_INPUT", "RUN_OUTPUT")),
            inputs.c.source_id.in_(run_ids),
        )
        for row in conn.execute(query).mappings():
            if row["source_type"] == "RUN_INPUT":
                model_inputs.setdefault(row["source_id"], []).append(row["destination_id"])
            else:
                outputs.setdefault(row["source_id"], []).append(
                    ModelOutput(row["destination_id"], row["step"] or 0)
                )
        return found, model_inputs, outputs

    def metric_history(self, run: SourceRun, key: str) -> Iterator[MetricPoint]:
        metrics = self.t["metrics"]
        query = (
            sa.select(
                metrics.c.value,
                metrics.c.timestamp,
                metrics.c.step,
                metrics.c.is_nan,
            )
            .where(metrics.c.run_uuid == run.data.run_id, metrics.c.key == key)
            .order_by(metrics.c.step, metrics.c.timestamp)
        )
        with self.engine.connect() as conn:
            streamed = conn.execution_options(stream_results=True, yield_per=STREAM_ROWS)
            for value, timestamp, step, is_nan in streamed.execute(query):
                yield MetricPoint(
                    key=key,
                    value=float("nan") if is_nan else value,
                    timestamp=timestamp or 0,
                    step=step or 0,
                )

    def point_count(self, run: SourceRun, key: str) -> int:
        metrics = self.t["metrics"]
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).where(
                    metrics.c.run_uuid == run.data.run_id, metrics.c.key == key
                )
            ).scalar_one()

    def run_artifacts(self, run: SourceRun) -> ArtifactTree:
        return tree_for_uri(run.artifact_uri, self.artifacts_root, self.moved)

    def logged_models(self, experiment: SourceExperiment) -> Iterator[SourceLoggedModel]:
        models = self._table("logged_models")
        if models is None:
            return
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(models)
                    .where(models.c.experiment_id == int(experiment.experiment_id))
                    .order_by(models.c.creation_timestamp_ms)
                )
                .mappings()
                .all()
            )
            ids = [row["model_id"] for row in rows]
            tags = _grouped(
                conn, self.t["logged_model_tags"], "model_id", "tag_key", "tag_value", ids
            )
            params = _grouped(
                conn, self.t["logged_model_params"], "model_id", "param_key", "param_value", ids
            )
        for row in rows:
            yield SourceLoggedModel(
                experiment_id=experiment.experiment_id,
                artifact_location=row["artifact_location"] or "",
                data=LoggedModelImport(
                    model_id=row["model_id"],
                    name=row["name"],
                    creation_timestamp_ms=row["creation_timestamp_ms"],
                    last_updated_timestamp_ms=row["last_updated_timestamp_ms"],
                    status=MODEL_STATUSES.get(row["status"] or 0, MODEL_STATUSES[0]),
                    lifecycle_stage=row.get("lifecycle_stage") or "active",
                    status_message=row.get("status_message"),
                    model_type=row.get("model_type") or "",
                    source_run_id=row.get("source_run_id"),
                    tags=tags.get(row["model_id"], []),
                    params=params.get(row["model_id"], []),
                ),
            )

    def logged_model_metrics(self, model: SourceLoggedModel) -> Iterator[MetricPoint]:
        metrics = self._table("logged_model_metrics")
        if metrics is None:
            return
        query = (
            sa.select(metrics)
            .where(metrics.c.model_id == model.data.model_id)
            .order_by(metrics.c.metric_name, metrics.c.metric_step, metrics.c.metric_timestamp_ms)
        )
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                value = row["metric_value"]
                yield MetricPoint(
                    key=row["metric_name"],
                    value=float("nan") if value is None else value,
                    timestamp=row["metric_timestamp_ms"],
                    step=row["metric_step"],
                    model_id=model.data.model_id,
                    run_id=row["run_id"],
                    dataset_name=row.get("dataset_name"),
                    dataset_digest=row.get("dataset_digest"),
                )

    def model_artifacts(self, model: SourceLoggedModel) -> ArtifactTree:
        return tree_for_uri(model.artifact_location, self.artifacts_root, self.moved)

    # --- registry --------------------------------------------------------------------

    def registered_models(self) -> Iterator[SourceRegisteredModel]:
        models = self._table("registered_models")
        if models is None:
            return
        versions = self.t["model_versions"]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(models).order_by(models.c.name)).mappings().all()
            tags = _grouped(conn, self.t["registered_model_tags"], "name", "key", "value")
            version_rows = (
                conn.execute(sa.select(versions).order_by(versions.c.name, versions.c.version))
                .mappings()
                .all()
            )
            version_tags = _grouped(
                conn, self.t["model_version_tags"], ("name", "version"), "key", "value"
            )
            aliases: dict[str, dict[str, int]] = {}
            alias_table = self._table("registered_model_aliases")
            if alias_table is not None:
                for row in conn.execute(sa.select(alias_table)).mappings():
                    aliases.setdefault(row["name"], {})[row["alias"]] = row["version"]
        by_model: dict[str, list[sa.RowMapping]] = {}
        for row in version_rows:
            by_model.setdefault(row["name"], []).append(row)
        for row in rows:
            name = row["name"]
            found = by_model.get(name, [])
            yield SourceRegisteredModel(
                data=RegisteredModelImport(
                    name=name,
                    creation_time=row["creation_time"] or 0,
                    last_updated_time=row["last_updated_time"] or row["creation_time"] or 0,
                    description=row["description"] or None,
                    last_version=max((v["version"] for v in found), default=0),
                    tags=tags.get(name, []),
                ),
                versions=[
                    _version(v, version_tags.get((name, v["version"]), []))
                    for v in found
                    if v["current_stage"] != DELETED_VERSION_STAGE
                ],
                aliases=aliases.get(name, {}),
            )

    def close(self) -> None:
        self.engine.dispose()


def _grouped(
    conn: Connection,
    table: sa.Table,
    owner: str | tuple[str, ...],
    key: str,
    value: str,
    owners: list[Any] | None = None,
) -> dict[Any, list[KeyValue]]:
    """Key/value rows by owner (a column, or a tuple of columns), optionally filtered."""
    owner_columns = [table.c[name] for name in ((owner,) if isinstance(owner, str) else owner)]
    query = sa.select(*owner_columns, table.c[key], table.c[value]).order_by(table.c[key])
    if owners is not None:
        query = query.where(owner_columns[0].in_(owners))
    grouped: dict[Any, list[KeyValue]] = {}
    for row in conn.execute(query):
        *ids, item_key, item_value = row
        group = ids[0] if len(ids) == 1 else tuple(ids)
        grouped.setdefault(group, []).append(KeyValue(item_key, item_value or ""))
    return grouped


def _version(row: sa.RowMapping, tags: list[KeyValue]) -> ModelVersion:
    return ModelVersion(
        name=row["name"],
        version=row["version"],
        creation_time=row["creation_time"] or 0,
        last_updated_time=row["last_updated_time"] or row["creation_time"] or 0,
        current_stage=row["current_stage"] or "None",
        source=row["source"] or "",
        status=row["status"] or "READY",
        description=row["description"] or None,
        user_id=row["user_id"] or None,
        run_id=row["run_id"] or None,
        run_link=row["run_link"] or None,
        status_message=row["status_message"] or None,
        storage_location=row.get("storage_location") or None,
        model_id=row.get("model_id") or None,
        tags=tags,
    )
