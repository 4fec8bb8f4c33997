"""Run dataset inputs as MLflow 3 records them, and the datasets an experiment used.

A run's inputs and outputs are read with the run (``run_pages``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.store.any_of import any_of
from service.store.entities.tracking import Dataset, DatasetInput
from service.store.tables import Dataset as DatasetRow
from service.store.tables import RunInput, RunInputTag, table_of

datasets = table_of(DatasetRow)
run_inputs = table_of(RunInput)
run_input_tags = table_of(RunInputTag)


def _dataset_uuid(conn: Connection, experiment_id: int, dataset: Dataset) -> str:
    """The id of ``dataset`` in the experiment, registering it on first use."""
    found: str | None = conn.execute(
        sa.select(datasets.c.dataset_uuid).where(
            datasets.c.experiment_id == experiment_id,
            datasets.c.name == dataset.name,
            datasets.c.digest == dataset.digest,
        )
    ).scalar()
    if found:
        return found
    dataset_uuid = uuid.uuid4().hex
    conn.execute(
        sa.insert(datasets).values(
            dataset_uuid=dataset_uuid,
            experiment_id=experiment_id,
            name=dataset.name,
            digest=dataset.digest,
            source_type=dataset.source_type,
            source=dataset.source,
            schema=dataset.schema,
            profile=dataset.profile,
        )
    )
    return dataset_uuid


def log_dataset_inputs(
    conn: Connection, run_id: str, experiment_id: int, inputs: Sequence[DatasetInput]
) -> None:
    for dataset_input in inputs:
        dataset_uuid = _dataset_uuid(conn, experiment_id, dataset_input.dataset)
        linked = conn.execute(
            sa.select(run_inputs.c.run_uuid).where(
                run_inputs.c.run_uuid == run_id, run_inputs.c.dataset_uuid == dataset_uuid
            )
        ).first()
        if linked:
            continue
        conn.execute(sa.insert(run_inputs).values(run_uuid=run_id, dataset_uuid=dataset_uuid))
        tags = {tag.key: tag.value for tag in dataset_input.tags}
        if tags:
            conn.execute(
                sa.insert(run_input_tags),
                [
                    {"run_uuid": run_id, "dataset_uuid": dataset_uuid, "key": k, "value": v}
                    for k, v in tags.items()
                ],
            )


#: The input tag that says what a dataset was used for (``training``, ``eval``...).
DATASET_CONTEXT_TAG = "mlflow.data.context"
#: MLflow caps the dataset summaries of one search at this many.
MAX_DATASET_SUMMARIES = 1000


def dataset_summaries(
    conn: Connection, experiment_ids: Sequence[int]
) -> list[tuple[int, str, str, str | None]]:
    """``(experiment_id, name, digest, context)`` of each dataset used in the experiments.

    One entry per distinct context a dataset was logged with (``None`` when untagged),
    as MLflow's ``experiments/search-datasets`` lists them.
    """
    context = run_input_tags.alias("context")
    query = (
        sa.select(datasets.c.experiment_id, datasets.c.name, datasets.c.digest, context.c.value)
        .distinct()
        .select_from(
            datasets.join(run_inputs, run_inputs.c.dataset_uuid == datasets.c.dataset_uuid).join(
                context,
                sa.and_(
                    context.c.run_uuid == run_inputs.c.run_uuid,
                    context.c.dataset_uuid == run_inputs.c.dataset_uuid,
                    context.c.key == DATASET_CONTEXT_TAG,
                ),
                isouter=True,
            )
        )
        .where(any_of(datasets.c.experiment_id, experiment_ids))
        .order_by(datasets.c.experiment_id, datasets.c.name, datasets.c.digest, context.c.value)
        .limit(MAX_DATASET_SUMMARIES)
    )
    return [tuple(row) for row in conn.execute(query)]
