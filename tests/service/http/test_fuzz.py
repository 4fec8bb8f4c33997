"""A seeded fuzz of every route: no input, however broken, gets a 5xx.

The requests are derived from the app's own route table, so a route added later is fuzzed
the day it is added. Each route gets the same seeded mix of JSON bodies and query strings
built from the field names MLflow's messages use and values at their edges: ids outside
int64, negative and fractional numbers, ``..`` and NUL in paths, long and non-ASCII text,
wrong types, nested structures, malformed JSON. Some values name entities that exist, so
handlers get past the first lookup.

A deterministic bad input must never be a 5xx (the mlflow client retries those for
minutes), and an error from the API is MLflow's JSON shape. On failure the test prints
the seed and each request that failed, to replay it.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.http.guard.routing import served
from tests.support.backends import scratch_database

pytestmark = pytest.mark.slow  # thousands of requests per backend: CI runs it

SEED = int(os.environ.get("STRATUS_FUZZ_SEED", "20261203"))
CASES_PER_ROUTE = int(os.environ.get("STRATUS_FUZZ_CASES", "20"))

FIELDS = (
    "experiment_id", "experiment_ids", "run_id", "run_uuid", "name", "new_name", "key",
    "value", "timestamp", "step", "max_results", "page_token", "filter", "filter_string",
    "order_by", "view_type", "run_view_type", "tags", "metrics", "params", "model_id",
    "model_ids", "version", "alias", "source", "path", "description", "start_time",
    "end_time", "status", "lifecycle_stage", "artifact_location", "metric_key", "run_ids",
    "start_step", "end_step", "dataset_inputs", "datasets", "inputs", "username",
    "password", "permission", "stage", "archive_existing_versions", "model_json",
    "artifact_file_path", "request_id", "trace_id", "trace_ids", "max_timestamp_millis",
)  # fmt: skip


#: Fields that MLflow's messages type as integers (ids, counts, times, versions).
NUMERIC_FIELDS = (
    "experiment_id", "experiment_ids", "max_results", "timestamp", "step", "version",
    "start_time", "end_time", "start_step", "end_step", "max_timestamp_millis", "view_type",
)  # fmt: skip


def _edges(known: dict[str, str]) -> list[Any]:
    return [
        None, True, 0, -1, 1.5, float("inf"), 2**63, -(2**63) - 1, 10**20,
        "99999999999999999999", "-1", "1e3", "", " ", "a" * 10_000, "é✓\u202e", "\x00",
        "../../etc/passwd", "a/../../b", "/abs", "%2e%2e/x", "NaN", "null", "true",
        "metrics.acc > 0.5 and params.lr = '0.01'", "attributes.status = 'x' and (",
        [], [1, "2", None], [{"key": "k", "value": "v"}], {"k": "v"}, {"a": {"b": [1]}},
        *known.values(),
    ]  # fmt: skip


def _value(rng: random.Random, edges: list[Any], depth: int = 0) -> Any:
    if depth < 2 and rng.random() < 0.15:
        return [_value(rng, edges, depth + 1) for _ in range(rng.randint(0, 3))]
    if depth < 2 and rng.random() < 0.1:
        return {rng.choice(FIELDS): _value(rng, edges, depth + 1) for _ in range(2)}
    return rng.choice(edges)


def _query_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _path(template: str, rng: random.Random, edges: list[Any]) -> str:
    def fill(match: re.Match[str]) -> str:
        value = str(rng.choice([e for e in edges if isinstance(e, str | int) and e != ""]))
        return quote(value, safe="/" if ":path" in match.group(0) else "")

    return re.sub(r"\{[^}]+\}", fill, template)


def _messages(
    rng: random.Random, edges: list[Any], known: dict[str, str]
) -> Iterator[dict[str, Any]]:
    """Every numeric field once with a number outside int64 (the ids a store's integer
    columns cannot hold), then seeded random messages."""
    for field in NUMERIC_FIELDS:
        huge: Any = [str(10**20)] if field.endswith("s") else rng.choice([10**20, str(10**20)])
        yield {**known, field: huge}
    for _ in range(CASES_PER_ROUTE):
        fields = rng.sample(FIELDS, rng.randint(0, 5))
        if rng.random() < 0.3:  # a plausible start: the ids that exist
            fields = [f for f in ("experiment_id", "run_id", "name") if f in known] + fields
        yield {f: known.get(f) if rng.random() < 0.3 else _value(rng, edges) for f in fields}


def _cases(template: str, method: str, known: dict[str, str]) -> Iterator[dict[str, Any]]:
    rng = random.Random(f"{SEED}:{method}:{template}")
    edges = _edges(known)
    for index, message in enumerate(_messages(rng, edges, known)):
        path = _path(template, rng, edges)
        if method in ("GET", "DELETE"):
            params = {k: _query_text(v) for k, v in message.items() if v is not None}
            yield {"method": method, "url": path, "params": params}
        elif index % 8 == 7:  # not JSON at all, or cut off
            body = rng.choice([b"{", b"\xff\xfe", b"[1,2", b'{"run_id": }', b"null", b"42"])
            yield {"method": method, "url": path, "content": body,
                   "headers": {"content-type": "application/json"}}  # fmt: skip
        else:
            yield {"method": method, "url": path, "content": json.dumps(message).encode(),
                   "headers": {"content-type": "application/json"}}  # fmt: skip


@pytest.fixture(scope="module")
def client(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    workdir = tmp_path_factory.mktemp(f"fuzz-{backend}")
    with scratch_database(backend, workdir) as url:
        settings = Settings(
            database_url=url, artifact_root=str(workdir / "artifacts"), data_dir=Path(workdir)
        )
        with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
            yield test_client


def _known(client: TestClient) -> dict[str, str]:
    """Entities that exist, so some requests get past the first lookup."""
    api = "/api/2.0/mlflow"
    experiment = client.post(f"{api}/experiments/create", json={"name": f"fuzz-{SEED}"})
    experiment_id = (
        experiment.json().get("experiment_id")
        or client.get(
            f"{api}/experiments/get-by-name", params={"experiment_name": f"fuzz-{SEED}"}
        ).json()["experiment"]["experiment_id"]
    )
    run = client.post(f"{api}/runs/create", json={"experiment_id": experiment_id}).json()
    client.post(f"{api}/registered-models/create", json={"name": f"fuzz-model-{SEED}"})
    return {
        "experiment_id": experiment_id,
        "run_id": run["run"]["info"]["run_id"],
        "name": f"fuzz-model-{SEED}",
    }


def test_no_route_answers_5xx_to_broken_input(client: TestClient) -> None:
    known = _known(client)
    failures = []
    count = 0
    for spec in served(client.app.routes):  # type: ignore[attr-defined]
        for request in _cases(spec.template, spec.method, known):
            count += 1
            response = client.request(**request, follow_redirects=False)
            api = "/api/" in request["url"] or "/ajax-api/" in request["url"]
            shaped = True
            if api and response.status_code >= 400:
                try:
                    shaped = "error_code" in response.json()
                except ValueError:
                    shaped = False
            if response.status_code >= 500 or not shaped:
                failures.append(f"{response.status_code} {request} -> {response.text[:200]}")
    assert count > 1000
    assert not failures, f"seed {SEED}: {len(failures)} of {count}\n" + "\n".join(failures[:15])
