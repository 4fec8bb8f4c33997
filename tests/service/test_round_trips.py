"""Round trips between the server and its database per request, counted on the wire.

The app runs in-process against the session's database through a TCP proxy that counts
every turn of the conversation (``tests/support/db_proxy.py``), so the figure is what
the network carries, whatever SQLAlchemy or the driver do on the way: pings, ``BEGIN``,
``COMMIT``, a rollback on the pool's return, prepared statements. On a network database
(Cloud SQL is a millisecond away) each turn is latency a client waits for.

SQLite has no wire: not collected there.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from service.app import create_app
from service.config import Settings
from tests.support.db_proxy import RoundTripProxy, round_trip_proxy

pytestmark = pytest.mark.needs_backend("postgresql", "mysql")

API = "/api/2.0/mlflow"
#: Requests before counting: the pool's connections opened, the driver's statements
#: prepared (psycopg prepares a statement on its fifth use, one extra turn, once).
WARM_UP = 12
MEASURED = 5

#: The most round trips each request may take, per database.
LIMITS: dict[str, dict[str, int]] = {
    "postgresql": {
        "log-metric": 1,
        "log-batch": 1,
        # Params are refused after the fact (a key logged with another value), so a batch
        # with them is BEGIN, one statement, COMMIT.
        "log-batch with params": 3,
        "set-tag": 1,
        "create-run": 1,
        # The run's row, then everything hanging off it in one statement, with no
        # transaction around them.
        "get-run": 2,
    },
    # Without the pool's ping. The rest is a transaction around statements that MySQL
    # has no single-statement form for (log-batch: an UPDATE per key whose latest value
    # moves); a ceiling against regressions, not a target.
    "mysql": {
        "log-metric": 6,
        "log-batch": 15,
        "log-batch with params": 10,
        "set-tag": 5,
        "create-run": 5,
        "get-run": 3,
    },
}


@pytest.fixture(scope="module")
def proxy(backend: str, database_url: str, migrated_database: object) -> Iterator[RoundTripProxy]:
    with round_trip_proxy(database_url) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def api(
    proxy: RoundTripProxy, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    data: Path = tmp_path_factory.mktemp("round-trips")
    settings = Settings(
        database_url=proxy.url_for(database_url),
        artifact_root=str(data / "artifacts"),
        data_dir=data,
        auth_enabled=False,
    )
    with TestClient(create_app(settings), raise_server_exceptions=True) as client:
        yield client


def _ok(answer: httpx.Response) -> httpx.Response:
    assert answer.status_code == 200, answer.text
    return answer


def _round_trips(proxy: RoundTripProxy, request: Callable[[int], object]) -> int:
    """The median round trips of ``request(i)`` once warm."""
    for i in range(WARM_UP):
        request(i)
    counts = []
    for i in range(WARM_UP, WARM_UP + MEASURED):
        before = proxy.round_trips
        request(i)
        counts.append(proxy.round_trips - before)
    return int(statistics.median(counts))


def test_round_trips_per_request(backend: str, proxy: RoundTripProxy, api: TestClient) -> None:
    experiment_id = _ok(
        api.post(f"{API}/experiments/create", json={"name": f"rt-{uuid.uuid4().hex}"})
    ).json()["experiment_id"]

    def create_run(_: int) -> str:
        answer = api.post(
            f"{API}/runs/create",
            json={"experiment_id": experiment_id, "tags": [{"key": "team", "value": "a"}]},
        )
        return str(_ok(answer).json()["run"]["info"]["run_id"])

    run_id = create_run(0)
    batch = [
        {"key": f"m{i % 10}", "value": i * 0.5, "timestamp": 1, "step": i} for i in range(1000)
    ]
    requests: dict[str, Callable[[int], object]] = {
        "create-run": create_run,
        "log-metric": lambda i: _ok(
            api.post(
                f"{API}/runs/log-metric",
                json={"run_id": run_id, "key": "loss", "value": 1.0, "timestamp": i, "step": i},
            )
        ),
        "log-batch": lambda i: _ok(
            api.post(
                f"{API}/runs/log-batch",
                json={"run_id": run_id, "metrics": [{**m, "timestamp": i} for m in batch]},
            )
        ),
        "log-batch with params": lambda i: _ok(
            api.post(
                f"{API}/runs/log-batch",
                json={
                    "run_id": run_id,
                    "metrics": [{"key": "m", "value": 1.0, "timestamp": i, "step": i}],
                    "params": [{"key": f"p{i}", "value": "1"}, {"key": "fixed", "value": "1"}],
                    "tags": [{"key": "t", "value": str(i)}],
                },
            )
        ),
        "set-tag": lambda i: _ok(
            api.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "k", "value": str(i)})
        ),
        "get-run": lambda _: _ok(api.get(f"{API}/runs/get", params={"run_id": run_id})),
    }
    measured = {name: _round_trips(proxy, request) for name, request in requests.items()}
    over = {
        name: f"{count} > {LIMITS[backend][name]}"
        for name, count in measured.items()
        if count > LIMITS[backend][name]
    }
    assert not over, f"round trips per request on {backend}: {measured}; over the limit: {over}"
