"""``metrics/get-history-bulk`` and ``get-history-bulk-interval``: one metric of many runs.

MLflow's web UI draws its charts from these. The limits, the defaults and the error
wording are MLflow's (``mlflow/server/handlers.py``); so is the sampling of the interval
endpoint, which the store reproduces row for row.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.errors import InvalidParameterValue
from service.http.context import blocking, store
from service.http.parsing import (
    SEE_DOCS,
    Int64,
    Message,
    Repeated,
    Text,
    missing_value,
    parse_query,
)
from service.http.responses import ok
from service.http.wire import tracking as wire
from service.store.metrics import HistoryRow

#: MLflow's caps: runs per request, points per bulk answer, points per run when sampling.
MAX_RUNS = 100
MAX_BULK_RESULTS = 25_000
MAX_SAMPLED_PER_RUN = 2_500


class HistoryBulk(Message):
    run_id: Repeated[Text] = []
    metric_key: Text | None = None
    max_results: Int64 = MAX_BULK_RESULTS


class HistoryBulkInterval(Message):
    run_ids: Repeated[Text] = []
    metric_key: Text | None = None
    start_step: Int64 | None = None
    end_step: Int64 | None = None
    max_results: Int64 = MAX_SAMPLED_PER_RUN

    def steps(self) -> tuple[int, int] | None:
        if self.start_step is None and self.end_step is None:
            return None
        if self.start_step is None or self.end_step is None:
            raise InvalidParameterValue(
                "If either start step or end step are specified, both must be specified."
            )
        if self.start_step > self.end_step:
            raise InvalidParameterValue(
                "end_step must be greater than start_step. Found "
                f"start_step={self.start_step} and end_step={self.end_step}."
            )
        return self.start_step, self.end_step


def _with_run(run_id: str, rows: Sequence[HistoryRow]) -> list[dict[str, object]]:
    points = wire.metric_history(rows)
    for point in points:
        point["run_id"] = run_id
    return points


async def history_bulk(request: Request) -> Response:
    """Every point of one metric in up to 100 runs (at most 25000 in all)."""
    msg = parse_query(request, HistoryBulk)
    if not msg.run_id:
        raise InvalidParameterValue(
            "GetMetricHistoryBulk request must specify at least one run_id."
        )
    if len(msg.run_id) > MAX_RUNS:
        raise InvalidParameterValue(
            f"GetMetricHistoryBulk request cannot specify more than {MAX_RUNS} run_ids. "
            f"Received {len(msg.run_id)} run_ids."
        )
    if msg.metric_key is None:
        raise InvalidParameterValue("GetMetricHistoryBulk request must specify a metric_key.")
    if msg.max_results < 0:
        raise InvalidParameterValue(
            f"Invalid value {msg.max_results} for parameter 'max_results' supplied. "
            "It must not be negative."
        )
    rows = await blocking(
        store(request).metrics.histories,
        msg.run_id,
        msg.metric_key,
        max_results=min(msg.max_results, MAX_BULK_RESULTS),
    )
    points = [point for run_id, row in rows for point in _with_run(run_id, [row])]
    # MLflow answers this one with a plain dict: the list is there even when empty.
    return Response(orjson.dumps({"metrics": points}), media_type="application/json")


async def history_bulk_interval(request: Request) -> Response:
    """Up to ``max_results`` points per run, sampled evenly over each run's history."""
    msg = parse_query(request, HistoryBulkInterval)
    if not msg.run_ids:
        raise InvalidParameterValue(missing_value("run_ids"))
    if len(msg.run_ids) > MAX_RUNS:
        raise InvalidParameterValue(
            f"GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS} run_ids. "
            f"Received {len(msg.run_ids)} run_ids.{SEE_DOCS}"
        )
    if not msg.metric_key:
        raise InvalidParameterValue(missing_value("metric_key"))
    if not 1 <= msg.max_results <= MAX_SAMPLED_PER_RUN:
        raise InvalidParameterValue(
            f"max_results must be between 1 and {MAX_SAMPLED_PER_RUN}.{SEE_DOCS}"
        )
    steps = msg.steps()
    points: list[dict[str, object]] = []
    for run_id in msg.run_ids:
        rows = await blocking(
            store(request).metrics.sampled_history,
            run_id,
            msg.metric_key,
            max_results=msg.max_results,
            steps=steps,
        )
        points += _with_run(run_id, rows)
    return ok({"metrics": points})


routes = [
    Route("/metrics/get-history-bulk", history_bulk, methods=["GET"]),
    Route("/metrics/get-history-bulk-interval", history_bulk_interval, methods=["GET"]),
]
