"""Logged models (MLflow 3): ``log_model`` creates one, uploads its files, then finalizes it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store import key_values, search
from service.store.any_of import any_of
from service.store.clock import now_ms
from service.store.db import Database, planned_for_values
from service.store.entities.common import KeyValue, Page
from service.store.entities.tracking import LoggedModel, LoggedModelStatus, MetricPoint
from service.store.experiments import ExperimentStore, possible_ids
from service.store.runs import generate_run_name
from service.store.tables import LoggedModel as LoggedModelRow
from service.store.tables import LoggedModelParam, LoggedModelTag, Metric, table_of
from service.store.validation import validate_length, validate_params, validate_tags

#: The tag listing the registered model versions made from a logged model.
MODEL_VERSIONS_TAG = "mlflow.modelVersions"

logged_models = table_of(LoggedModelRow)
model_tags = table_of(LoggedModelTag)
model_params = table_of(LoggedModelParam)
metrics = table_of(Metric)


def new_model_id() -> str:
    return f"m-{uuid.uuid4().hex}"


class LoggedModelStore:
    def __init__(self, db: Database, experiments: ExperimentStore) -> None:
        self.db = db
        self.experiments = experiments

    def create(
        self,
        *,
        experiment_id: int,
        name: str | None,
        model_type: str | None,
        source_run_id: str | None,
        params: Sequence[KeyValue],
        tags: Sequence[KeyValue],
    ) -> LoggedModel:
        name = name or generate_run_name()
        validate_length(name, 500, "name")
        validate_params(params)
        validate_tags(tags)
        model_id = new_model_id()
        now = now_ms()
        with self.db.write() as conn:
            location = self.experiments.require_active(conn, experiment_id)
            conn.execute(
                sa.insert(logged_models).values(
                    model_id=model_id,
                    experiment_id=experiment_id,
                    name=name,
                    artifact_location=f"{location.rstrip('/')}/models/{model_id}/artifacts",
                    creation_timestamp_ms=now,
                    last_updated_timestamp_ms=now,
                    status=LoggedModelStatus.LOGGED_MODEL_PENDING.value,
                    model_type=model_type or "",
                    source_run_id=source_run_id or None,
                    lifecycle_stage="active",
                )
            )
            key_values.put(conn, model_params, "model_id", model_id, params)
            key_values.put(conn, model_tags, "model_id", model_id, tags)
            return self._load(conn, [model_id])[0]

    def get(self, model_id: str) -> LoggedModel:
        with self.db.read() as conn:
            found = self._load(conn, [model_id])
        if not found or found[0].lifecycle_stage != "active":
            raise ResourceDoesNotExist(f"Logged model with ID '{model_id}' not found.")
        return found[0]

    def finalize(self, model_id: str, status: str) -> LoggedModel:
        if status not in LoggedModelStatus.__members__:
            raise InvalidParameterValue(
                f"Invalid value {json.dumps(status)} for parameter 'status' supplied."
            )
        with self.db.write() as conn:
            self._require(conn, model_id)
            conn.execute(
                sa.update(logged_models)
                .where(logged_models.c.model_id == model_id)
                .values(status=status, last_updated_timestamp_ms=now_ms())
            )
            return self._load(conn, [model_id])[0]

    def delete(self, model_id: str) -> None:
        with self.db.write() as conn:
            self._require(conn, model_id)
            now = now_ms()
            conn.execute(
                sa.update(logged_models)
                .where(logged_models.c.model_id == model_id)
                .values(lifecycle_stage="deleted", deleted_time=now, last_updated_timestamp_ms=now)
            )

    def set_tags(self, model_id: str, tags: Sequence[KeyValue]) -> None:
        validate_tags(tags)
        tags = [
            KeyValue(t.key, model_versions_tag(t.value)) if t.key == MODEL_VERSIONS_TAG else t
            for t in tags
        ]
        with self.db.write() as conn:
            self._require(conn, model_id)
            key_values.put(conn, model_tags, "model_id", model_id, tags)

    def delete_tag(self, model_id: str, key: str) -> None:
        with self.db.write() as conn:
            self._require(conn, model_id)
            deleted = conn.execute(
                sa.delete(model_tags).where(
                    model_tags.c.model_id == model_id, model_tags.c.key == key
                )
            ).rowcount
            if not deleted:
                raise ResourceDoesNotExist(f"No tag with key '{key}' found for model '{model_id}'.")

    def log_params(self, model_id: str, params: Sequence[KeyValue]) -> None:
        validate_params(params)
        with self.db.write() as conn:
            self._require(conn, model_id)
            key_values.put(conn, model_params, "model_id", model_id, params)

    def search(
        self,
        *,
        experiment_ids: Sequence[int],
        filter_string: str | None,
        order_by: Sequence[Mapping[str, object]],
        datasets: Sequence[search.DatasetFilter] = (),
        max_results: int | None,
        page_token: str | None,
    ) -> Page[LoggedModel]:
        """Search with MLflow's filter grammar; ``order_by`` holds the wire's order objects."""
        max_results = search.check_max_results(max_results, search.Target.LOGGED_MODELS)
        comparisons = search.parse_filter(filter_string, search.Target.LOGGED_MODELS)
        order_keys = search.parse_logged_model_order_by(order_by)
        offset = search.decode_page_token(page_token)
        query = search.logged_model_search_query(
            possible_ids(experiment_ids), comparisons, order_keys, datasets
        )
        with self.db.read() as conn:
            with planned_for_values(conn):
                ids, token = search.fetch_page(
                    lambda q: list(conn.execute(q).scalars()), query, offset, max_results
                )
            found = self._load(conn, ids)
        return Page(found, token)

    def _require(self, conn: Connection, model_id: str) -> None:
        stage = conn.execute(
            sa.select(logged_models.c.lifecycle_stage).where(logged_models.c.model_id == model_id)
        ).scalar()
        if stage != "active":
            raise ResourceDoesNotExist(f"Logged model with ID '{model_id}' not found.")

    @staticmethod
    def _load(conn: Connection, model_ids: Sequence[str]) -> list[LoggedModel]:
        if not model_ids:
            return []
        rows = {
            row["model_id"]: row
            for row in conn.execute(
                sa.select(logged_models).where(any_of(logged_models.c.model_id, model_ids))
            ).mappings()
        }
        tags = key_values.load(conn, model_tags, "model_id", model_ids)
        params = key_values.load(conn, model_params, "model_id", model_ids)
        model_metrics: dict[str, list[MetricPoint]] = {}
        for row in conn.execute(
            sa.select(metrics)
            .where(any_of(metrics.c.model_id, model_ids))
            .order_by(metrics.c.key, metrics.c.step, metrics.c.timestamp)
        ):
            model_metrics.setdefault(row.model_id, []).append(
                MetricPoint(
                    key=row.key,
                    value=float("nan") if row.is_nan else row.value,
                    timestamp=row.timestamp,
                    step=row.step,
                    model_id=row.model_id,
                    dataset_name=row.dataset_name,
                    dataset_digest=row.dataset_digest,
                    run_id=row.run_uuid,
                )
            )
        return [
            LoggedModel(
                model_id=m,
                experiment_id=rows[m]["experiment_id"],
                name=rows[m]["name"],
                artifact_location=rows[m]["artifact_location"],
                creation_timestamp_ms=rows[m]["creation_timestamp_ms"],
                last_updated_timestamp_ms=rows[m]["last_updated_timestamp_ms"],
                status=rows[m]["status"],
                status_message=rows[m]["status_message"],
                model_type=rows[m]["model_type"],
                source_run_id=rows[m]["source_run_id"],
                lifecycle_stage=rows[m]["lifecycle_stage"],
                tags=tags.get(m, []),
                params=params.get(m, []),
                metrics=model_metrics.get(m, []),
            )
            for m in model_ids
            if m in rows
        ]


def model_versions_tag(value: str) -> str:
    """``mlflow.modelVersions`` as MLflow's store writes it: integer versions, each once.

    Registration records the version on the server (as an integer); the client then adds
    the same entry again with the version as a string. Both mean one version, so the
    list keeps it once, as ``{"name": ..., "version": <int>}``. Other values pass as they are.
    """
    try:
        entries = json.loads(value)
    except ValueError:
        return value
    if not isinstance(entries, list):
        return value
    kept: list[object] = []
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("version"), str):
            digits = entry["version"].strip()
            if digits.isdecimal():
                entry = {**entry, "version": int(digits)}
        if entry not in kept:
            kept.append(entry)
    return json.dumps(kept)
