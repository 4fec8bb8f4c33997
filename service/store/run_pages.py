"""Runs in two statements, whatever the page size: the run rows, then one ``UNION ALL``
of everything hanging off them (params, tags, latest metrics, dataset inputs with their
tags, model inputs and outputs).

A page of 100 runs used to cost eight statements, one per table; each is a round trip
and, on PostgreSQL, a parse and plan. The children come back as rows of one shape,
``(part, run id, key, value, step, timestamp, number, is_nan, text1..text5)``, each part
using the columns it needs, in its order (``ORDER BY part, key``, then what ties).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from service.store.any_of import any_of
from service.store.entities.common import KeyValue
from service.store.entities.tracking import (
    Dataset,
    DatasetInput,
    MetricPoint,
    ModelOutput,
    Run,
    RunInfo,
)
from service.store.tables import Run as RunRow
from service.store.tables import table_of

runs = table_of(RunRow)

_PARAM, _TAG, _METRIC, _DATASET, _INPUT_TAG, _MODEL_INPUT, _OUTPUT = range(7)
_NAN = float("nan")

#: The columns of ``runs`` a RunInfo is built from, in the order of its fields.
_INFO_COLUMNS = (
    runs.c.run_uuid,
    runs.c.experiment_id,
    runs.c.name,
    runs.c.user_id,
    runs.c.status,
    runs.c.start_time,
    runs.c.end_time,
    runs.c.artifact_uri,
    runs.c.lifecycle_stage,
)


def load_runs(conn: Connection, run_ids: Sequence[str]) -> list[Run]:
    """Full runs for ``run_ids`` that exist, in that order."""
    if not run_ids:
        return []
    infos = {
        row[0]: RunInfo(*row)
        for row in conn.execute(sa.select(*_INFO_COLUMNS).where(any_of(runs.c.run_uuid, run_ids)))
    }
    found = [run_id for run_id in run_ids if run_id in infos]
    if not found:
        return []
    params: dict[str, list[KeyValue]] = {run_id: [] for run_id in found}
    tags: dict[str, list[KeyValue]] = {run_id: [] for run_id in found}
    metrics: dict[str, list[MetricPoint]] = {run_id: [] for run_id in found}
    datasets: dict[str, list[DatasetInput]] = {}
    input_tags: dict[tuple[str, str], list[KeyValue]] = {}
    model_inputs: dict[str, list[str]] = {}
    outputs: dict[str, list[ModelOutput]] = {}
    for part, run_id, key, value, step, timestamp, number, is_nan, a, b, c, d, e in _children(
        conn, found
    ):
        if part == _PARAM:
            params[run_id].append(KeyValue(key, value))
        elif part == _TAG:
            tags[run_id].append(KeyValue(key, value))
        elif part == _METRIC:
            metrics[run_id].append(
                MetricPoint(key, _NAN if is_nan else number, timestamp, step, a, b, c)
            )
        elif part == _DATASET:  # a: dataset uuid, b: digest, c: source type, d, e: schema, profile
            dataset = Dataset(key, b, c, value, d, e)
            dataset_tags = input_tags.setdefault((run_id, a), [])
            datasets.setdefault(run_id, []).append(DatasetInput(dataset, dataset_tags))
        elif part == _INPUT_TAG:  # a: dataset uuid
            input_tags.setdefault((run_id, a), []).append(KeyValue(key, value))
        elif part == _MODEL_INPUT:
            model_inputs.setdefault(run_id, []).append(key)
        else:
            outputs.setdefault(run_id, []).append(ModelOutput(key, step))
    return [
        Run(
            info=infos[run_id],
            metrics=metrics[run_id],
            params=params[run_id],
            tags=tags[run_id],
            dataset_inputs=datasets.get(run_id, []),
            model_inputs=model_inputs.get(run_id, []),
            model_outputs=outputs.get(run_id, []),
        )
        for run_id in found
    ]


@functools.lru_cache(maxsize=64)
def _children_sql(dialect: Dialect, count: int) -> str:
    """The children of ``count`` runs as driver SQL, one row shape for every part, each
    part by key (datasets by name, then id).

    Built by hand and cached per size, as ``trace_infos`` does: SQLAlchemy's expanding
    ``IN`` over seven selects would cost more than the query."""
    quote = dialect.identifier_preparer.quote
    key, timestamp, schema = quote("key"), quote("timestamp"), quote("schema")
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    # PostgreSQL: one named array parameter, sent (and dumped by psycopg) once for all
    # seven selects; a dump of 100 ids costs 0.2 ms of CPU.
    ids = "= ANY(%(ids)s)" if dialect.name == "postgresql" else f"IN ({', '.join([mark] * count)})"
    # The widest parts first: PostgreSQL types a union's columns pair by pair, and a
    # column of NULLs alone would be taken for text.
    return (
        f"SELECT {_METRIC} AS part, run_uuid, {key}, NULL AS value, step, "
        f"{timestamp} AS {timestamp}, value AS number, is_nan, model_id AS text1, "
        "dataset_name AS text2, dataset_digest AS text3, NULL AS text4, NULL AS text5 "
        f"FROM latest_metrics WHERE run_uuid {ids} "
        f"UNION ALL SELECT {_DATASET}, i.run_uuid, d.name, d.source, NULL, NULL, NULL, NULL, "
        f"d.dataset_uuid, d.digest, d.source_type, d.{schema}, d.profile "
        "FROM run_inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid "
        f"WHERE i.run_uuid {ids} "
        f"UNION ALL SELECT {_PARAM}, run_uuid, {key}, value, NULL, NULL, NULL, NULL, NULL, "
        f"NULL, NULL, NULL, NULL FROM params WHERE run_uuid {ids} "
        f"UNION ALL SELECT {_TAG}, run_uuid, {key}, value, NULL, NULL, NULL, NULL, NULL, NULL, "
        f"NULL, NULL, NULL FROM run_tags WHERE run_uuid {ids} "
        f"UNION ALL SELECT {_INPUT_TAG}, run_uuid, {key}, value, NULL, NULL, NULL, NULL, "
        f"dataset_uuid, NULL, NULL, NULL, NULL FROM run_input_tags WHERE run_uuid {ids} "
        f"UNION ALL SELECT {_MODEL_INPUT}, run_uuid, model_id, NULL, NULL, NULL, NULL, NULL, "
        f"NULL, NULL, NULL, NULL, NULL FROM run_model_inputs WHERE run_uuid {ids} "
        f"UNION ALL SELECT {_OUTPUT}, run_uuid, model_id, NULL, step, NULL, NULL, NULL, "
        f"NULL, NULL, NULL, NULL, NULL FROM run_model_outputs WHERE run_uuid {ids} "
        f"ORDER BY part, {key}, text1"
    )


def _children(conn: Connection, run_ids: list[str]) -> list[tuple[Any, ...]]:
    """The driver's own tuples: these columns need no type processing, and a page has
    thousands of rows (SQLAlchemy's Row objects cost more than the loop over them)."""
    dialect = conn.dialect
    sql = _children_sql(dialect, len(run_ids))
    params = {"ids": run_ids} if dialect.name == "postgresql" else tuple(run_ids) * 7
    return list(conn.exec_driver_sql(sql, params).cursor.fetchall())
