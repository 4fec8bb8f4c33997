"""The benchmark's trace seeding: one trace exported through OTLP, copied by direct SQL.

The copies must be what the server would have stored had they been exported: searchable
in time order, each with its own id in its tags and spans, and readable one by one.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.scenarios.traces import BASE_NS, new_trace_id, otlp_body
from bench.servers import DatabaseSpec, fresh_database
from bench.trace_seed import clone_trace, table_columns
from tests.support.backends import enabled_backends
from tests.support.server import ServerProcess

API3 = "/api/3.0/mlflow"


#: The databases the benchmark runs on.
BENCH_BACKENDS = [b for b in enabled_backends() if b in ("sqlite", "postgresql")]


@pytest.fixture(params=BENCH_BACKENDS)
def seeded(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[httpx.Client, DatabaseSpec]]:
    database = fresh_database(request.param, "seedtest", tmp_path)
    proc = ServerProcess(
        database_url=database.stratus_url,
        artifact_root=str(tmp_path / "artifacts"),
        workdir=tmp_path,
    ).start()
    try:
        with httpx.Client(base_url=proc.url, timeout=30) as http:
            yield http, database
    finally:
        proc.stop()
        database.drop()


def test_copies_are_whole_traces(seeded: tuple[httpx.Client, DatabaseSpec]) -> None:
    http, database = seeded
    experiment = http.post("/api/2.0/mlflow/experiments/create", json={"name": "seed"}).json()
    experiment_id = experiment["experiment_id"]
    ids = [new_trace_id() for _ in range(30)]
    exported = http.post(
        "/v1/traces",
        content=otlp_body([(ids[0], BASE_NS)], 1),
        headers={"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id},
    )
    assert exported.status_code == 200, exported.text
    start_ms = BASE_NS // 1_000_000
    template = "tr-" + ids[0].hex()
    copies = [("tr-" + trace_id.hex(), start_ms + i) for i, trace_id in enumerate(ids) if i]

    assert {"traces", "trace_tags", "spans", "span_attributes"} <= set(table_columns(database))
    assert clone_trace(database, template, copies, start_ms) > len(copies)

    found = http.post(
        f"{API3}/traces/search",
        json={
            "locations": [
                {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}
            ],
            "max_results": 100,
        },
    ).json()["traces"]
    assert [t["trace_id"] for t in found] == ["tr-" + i.hex() for i in reversed(ids)]
    first, last = found[-1], found[0]
    assert last["request_time"].endswith(".029Z") and first["request_time"].endswith(".000Z")
    assert last["execution_duration"] == first["execution_duration"]
    assert last["tags"] == {
        key: value.replace(ids[0].hex(), ids[-1].hex()) for key, value in first["tags"].items()
    }
    assert ids[-1].hex() in last["tags"]["mlflow.artifactLocation"]

    trace = http.get(f"{API3}/traces/get", params={"trace_id": last["trace_id"]}).json()["trace"]
    [span] = trace["spans"]
    assert span["trace_id"] == base64.b64encode(ids[-1]).decode()
    assert int(span["start_time_unix_nano"]) == BASE_NS
