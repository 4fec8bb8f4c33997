"""Experiments: create, read, search, rename, delete/restore, tags."""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from service.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from service.store import key_values, run_inputs, search
from service.store.any_of import any_of
from service.store.auth import Visible
from service.store.clock import now_ms
from service.store.db import Database, inserted_id, planned_for_values
from service.store.entities.common import KeyValue, Page
from service.store.entities.tracking import Experiment, ViewType
from service.store.tables import Experiment as ExperimentRow
from service.store.tables import ExperimentPermission, ExperimentTag, Run, table_of
from service.store.validation import (
    INT64_MAX,
    INT64_MIN,
    MAX_ARTIFACT_LOCATION_LENGTH,
    MAX_EXPERIMENT_NAME_LENGTH,
    MAX_EXPERIMENT_TAG_VALUE_LENGTH,
    validate_length,
    validate_tags,
)

experiments = table_of(ExperimentRow)
experiment_tags = table_of(ExperimentTag)
runs = table_of(Run)
experiment_grants = table_of(ExperimentPermission)

_LOCATION_AND_STAGE = sa.select(
    experiments.c.artifact_location, experiments.c.lifecycle_stage
).where(experiments.c.experiment_id == sa.bindparam("experiment_id"))

MAX_EXPERIMENT_ID = 2**31 - 1
PROXIED_ARTIFACTS_SCHEME = "mlflow-artifacts:"


def parse_experiment_id(raw: str | int | None) -> int:
    """Experiment ids are integers on the wire as strings; anything else is a 400."""
    if raw is None or raw == "":
        raise InvalidParameterValue("Missing value for required parameter 'experiment_id'.")
    try:
        experiment_id = int(raw)
    except (TypeError, ValueError):
        raise InvalidParameterValue("Experiment ID must be a valid integer") from None
    if not INT64_MIN <= experiment_id <= INT64_MAX:
        # MLflow's server fails with a 500 here (the database driver overflows), which the
        # client retries for minutes; no such experiment can exist, so it is the caller's error.
        raise InvalidParameterValue(
            f"Invalid value {json.dumps(str(raw))} for parameter 'experiment_id' supplied: "
            "it is outside the 64-bit integer range."
        )
    return experiment_id


def possible_ids(experiment_ids: Sequence[int]) -> list[int]:
    """The ids an experiment can have (the column is 32-bit); others would match nothing,
    and PostgreSQL rejects comparing them with the column instead."""
    return [i for i in experiment_ids if 0 <= i <= MAX_EXPERIMENT_ID]


class ExperimentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- reads -----------------------------------------------------------------------

    def get(self, experiment_id: int) -> Experiment:
        with self.db.read() as conn:
            return self._get(conn, experiment_id)

    def dataset_summaries(
        self, experiment_ids: Sequence[int]
    ) -> list[tuple[int, str, str, str | None]]:
        """The datasets runs of these experiments used: see :func:`run_inputs.dataset_summaries`."""
        with self.db.read() as conn:
            return run_inputs.dataset_summaries(conn, possible_ids(experiment_ids))

    def get_by_name(self, name: str) -> Experiment:
        with self.db.read() as conn:
            row = (
                conn.execute(sa.select(experiments).where(experiments.c.name == name))
                .mappings()
                .first()
            )
            if row is None:
                raise ResourceDoesNotExist(f"Could not find experiment with name '{name}'")
            return self._with_tags(conn, [row])[0]

    def search(
        self,
        *,
        view_type: ViewType,
        filter_string: str | None,
        order_by: Sequence[str],
        max_results: int | None,
        page_token: str | None,
        visible: Visible | None = None,
    ) -> Page[Experiment]:
        """``visible`` limits the results to what the caller may read (service/auth)."""
        max_results = search.check_max_results(max_results, search.Target.EXPERIMENTS)
        comparisons = search.parse_filter(filter_string, search.Target.EXPERIMENTS)
        order_keys = search.parse_order_by(order_by, search.Target.EXPERIMENTS)
        offset = search.decode_page_token(page_token)
        query = search.experiment_search_query(view_type, comparisons, order_keys)
        if visible is not None:
            query = query.where(visible.clause(experiments.c.experiment_id))
        with self.db.read() as conn:
            with planned_for_values(conn):
                ids, token = search.fetch_page(
                    lambda q: list(conn.execute(q).scalars()), query, offset, max_results
                )
            rows = (
                conn.execute(sa.select(experiments).where(any_of(experiments.c.experiment_id, ids)))
                .mappings()
                .all()
                if ids
                else []
            )
            by_id = {e.experiment_id: e for e in self._with_tags(conn, rows)}
        items = [by_id[i] for i in ids if i in by_id]
        return Page(items, token)

    # --- writes ----------------------------------------------------------------------

    def create(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[KeyValue] = (),
        *,
        manager: str | None = None,
    ) -> int:
        """A new experiment; ``manager`` (its creator, with auth on) gets MANAGE on it in
        the same transaction."""
        name = name.strip() if name else ""
        if not name:
            raise InvalidParameterValue(
                "Invalid experiment name: ''. Experiment name must not be empty."
            )
        validate_length(name, MAX_EXPERIMENT_NAME_LENGTH, "experiment name")
        if artifact_location:
            validate_length(artifact_location, MAX_ARTIFACT_LOCATION_LENGTH, "artifact_location")
        validate_tags(tags, MAX_EXPERIMENT_TAG_VALUE_LENGTH)
        now = now_ms()
        try:
            with self.db.write() as conn:
                experiment_id = inserted_id(
                    conn.execute(
                        sa.insert(experiments).values(
                            name=name,
                            artifact_location=artifact_location or "",
                            lifecycle_stage="active",
                            creation_time=now,
                            last_update_time=now,
                        )
                    )
                )
                if not artifact_location:
                    conn.execute(
                        sa.update(experiments)
                        .where(experiments.c.experiment_id == experiment_id)
                        .values(artifact_location=f"{PROXIED_ARTIFACTS_SCHEME}/{experiment_id}")
                    )
                key_values.put(conn, experiment_tags, "experiment_id", experiment_id, tags)
                if manager is not None:
                    conn.execute(
                        sa.insert(experiment_grants).values(
                            experiment_id=experiment_id, principal=manager, permission="MANAGE"
                        )
                    )
        except IntegrityError as exc:
            raise ResourceAlreadyExists(f"Experiment(name={name}) already exists.") from exc
        return int(experiment_id)

    def rename(self, experiment_id: int, new_name: str) -> None:
        new_name = (new_name or "").strip()
        if not new_name:
            raise InvalidParameterValue("Missing value for required parameter 'new_name'.")
        validate_length(new_name, MAX_EXPERIMENT_NAME_LENGTH, "experiment name")
        try:
            with self.db.write() as conn:
                experiment = self._get(conn, experiment_id)
                if experiment.lifecycle_stage != "active":
                    raise InvalidParameterValue("Cannot rename a non-active experiment.")
                conn.execute(
                    sa.update(experiments)
                    .where(experiments.c.experiment_id == experiment_id)
                    .values(name=new_name, last_update_time=now_ms())
                )
        except IntegrityError as exc:
            raise ResourceAlreadyExists(f"Experiment(name={new_name}) already exists.") from exc

    def delete(self, experiment_id: int) -> None:
        """Soft-delete the experiment and its active runs; ``stratus gc`` removes them later."""
        self._set_lifecycle(experiment_id, "deleted")

    def restore(self, experiment_id: int) -> None:
        self._set_lifecycle(experiment_id, "active")

    def set_tag(self, experiment_id: int, key: str, value: str) -> None:
        validate_tags([KeyValue(key, value)], MAX_EXPERIMENT_TAG_VALUE_LENGTH)
        with self.db.write() as conn:
            self.require_active(conn, experiment_id)
            key_values.put(
                conn, experiment_tags, "experiment_id", experiment_id, [KeyValue(key, value)]
            )
            conn.execute(
                sa.update(experiments)
                .where(experiments.c.experiment_id == experiment_id)
                .values(last_update_time=now_ms())
            )

    def delete_tag(self, experiment_id: int, key: str) -> None:
        with self.db.write() as conn:
            self.require_active(conn, experiment_id)
            deleted = conn.execute(
                sa.delete(experiment_tags).where(
                    experiment_tags.c.experiment_id == experiment_id, experiment_tags.c.key == key
                )
            ).rowcount
            if not deleted:
                raise ResourceDoesNotExist(
                    f"No tag with name: {key} in experiment with id {experiment_id}"
                )

    # --- helpers ---------------------------------------------------------------------

    def _set_lifecycle(self, experiment_id: int, stage: str) -> None:
        now = now_ms()
        with self.db.write() as conn:
            experiment = self._get(conn, experiment_id)
            if experiment.lifecycle_stage == stage:
                raise InvalidParameterValue(f"The experiment {experiment_id} is already {stage}.")
            previous_deleted_time = conn.execute(
                sa.select(experiments.c.deleted_time).where(
                    experiments.c.experiment_id == experiment_id
                )
            ).scalar()
            deleted_time = now if stage == "deleted" else None
            conn.execute(
                sa.update(experiments)
                .where(experiments.c.experiment_id == experiment_id)
                .values(lifecycle_stage=stage, last_update_time=now, deleted_time=deleted_time)
            )
            # Runs follow their experiment: deleted with it, and on restore exactly the runs
            # deleted with it come back (runs deleted on their own stay deleted).
            if stage == "deleted":
                run_filter = runs.c.lifecycle_stage == "active"
            else:
                run_filter = sa.and_(
                    runs.c.lifecycle_stage == "deleted",
                    runs.c.deleted_time == previous_deleted_time,
                )
            conn.execute(
                sa.update(runs)
                .where(runs.c.experiment_id == experiment_id, run_filter)
                .values(lifecycle_stage=stage, deleted_time=deleted_time)
            )

    def require_active(self, conn: Connection, experiment_id: int) -> str:
        """The experiment's artifact location, read inside the caller's transaction.

        Deleted experiments are read-only. One prebuilt query: this runs for every run
        created, and building a query per call cost more than running it.
        """
        row = None
        if 0 <= experiment_id <= MAX_EXPERIMENT_ID:
            row = conn.execute(_LOCATION_AND_STAGE, {"experiment_id": experiment_id}).first()
        return active_location(
            experiment_id, None if row is None else (row.artifact_location, row.lifecycle_stage)
        )

    def _get(self, conn: Connection, experiment_id: int) -> Experiment:
        row = None
        if 0 <= experiment_id <= MAX_EXPERIMENT_ID:
            row = (
                conn.execute(
                    sa.select(experiments).where(experiments.c.experiment_id == experiment_id)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise ResourceDoesNotExist(f"No Experiment with id={experiment_id} exists")
        return self._with_tags(conn, [row])[0]

    @staticmethod
    def _with_tags(conn: Connection, rows: Sequence[sa.RowMapping]) -> list[Experiment]:
        ids = [row["experiment_id"] for row in rows]
        tags: dict[int, list[KeyValue]] = {i: [] for i in ids}
        if ids:
            for tag in conn.execute(
                sa.select(experiment_tags).where(any_of(experiment_tags.c.experiment_id, ids))
            ):
                tags[tag.experiment_id].append(KeyValue(tag.key, tag.value))
        return [
            Experiment(
                experiment_id=row["experiment_id"],
                name=row["name"],
                artifact_location=row["artifact_location"],
                lifecycle_stage=row["lifecycle_stage"],
                creation_time=row["creation_time"],
                last_update_time=row["last_update_time"],
                tags=tags[row["experiment_id"]],
            )
            for row in rows
        ]


def active_location(experiment_id: int, found: tuple[str, str] | None) -> str:
    """The artifact location of a found ``(artifact_location, lifecycle_stage)``; an
    experiment not found, or not active (deleted experiments are read-only), is an error."""
    if found is None:
        raise ResourceDoesNotExist(f"No Experiment with id={experiment_id} exists")
    artifact_location, stage = found
    if stage != "active":
        raise InvalidParameterValue(
            f"The experiment {experiment_id} must be in the 'active' state. "
            f"Current state is {stage}."
        )
    return artifact_location
