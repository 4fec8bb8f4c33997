"""One, two and four server processes on one database, as Cloud Run scales Stratus out.

Requests go round-robin across the instances, from concurrent writers. Every write that
was acknowledged reads back exactly once from every instance, a client's retry on another
instance stores nothing twice, and names that must be unique stay unique when the same
name is created at the same moment on different instances: one caller wins, the others
get MLflow's ``RESOURCE_ALREADY_EXISTS``. The one-process races are in
``test_durability.py`` and ``test_registry.py``; these carry them across processes.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.support.server import ServerProcess

#: Subprocesses: CI runs these, the default local run does not. SQLite is one file on one
#: machine and never shared by instances; the server databases are.
pytestmark = [pytest.mark.slow, pytest.mark.needs_backend("postgresql", "mysql")]

API = "/api/2.0/mlflow"
T0 = 1_700_000_000_000
WRITERS = 8


@pytest.fixture(scope="module")
def fleet(
    server: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ServerProcess]]:
    """The session's server and three more processes on its database and artifact root."""
    workdir = tmp_path_factory.mktemp("fleet")
    others = [
        ServerProcess(
            database_url=server.database_url, artifact_root=server.artifact_root, workdir=workdir
        )
        for _ in range(3)
    ]
    for other in others:
        other.start_process()
    try:
        for other in others:
            other.wait_healthy()
        yield [server, *others]
    finally:
        for other in others:
            other.stop()


@pytest.fixture(params=[1, 2, 4], ids=lambda n: f"{n}-instances")
def urls(request: pytest.FixtureRequest, fleet: list[ServerProcess]) -> list[str]:
    return [proc.url for proc in fleet[: request.param]]


class RoundRobin:
    """One keep-alive client per instance; each call goes to the next instance."""

    def __init__(self, urls: list[str]) -> None:
        self.clients = [httpx.Client(base_url=url, timeout=60) for url in urls]
        self._next = itertools.cycle(range(len(urls)))
        self._lock = threading.Lock()

    def pick(self) -> httpx.Client:
        with self._lock:
            return self.clients[next(self._next)]

    def post(self, endpoint: str, body: dict) -> httpx.Response:
        return self.pick().post(f"{API}/{endpoint}", json=body)

    def close(self) -> None:
        for client in self.clients:
            client.close()


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def new_experiment(url: str, name: str) -> str:
    return ok(httpx.post(f"{url}{API}/experiments/create", json={"name": name}))["experiment_id"]


def history(url: str, run_id: str, key: str) -> list[int]:
    """The steps of a metric's history as one instance reads it, duplicates included."""
    body = ok(
        httpx.get(
            f"{url}{API}/metrics/get-history",
            params={"run_id": run_id, "metric_key": key, "max_results": 25000},
            timeout=60,
        )
    )
    return sorted(point["step"] for point in body.get("metrics", []))


def run_ids(url: str, experiment_id: str) -> list[str]:
    found: list[str] = []
    token = None
    while True:
        body = {"experiment_ids": [experiment_id], "max_results": 1000}
        if token:
            body["page_token"] = token
        page = ok(httpx.post(f"{url}{API}/runs/search", json=body, timeout=60))
        found += [run["info"]["run_id"] for run in page.get("runs", [])]
        token = page.get("next_page_token")
        if not token:
            return found


def test_acknowledged_writes_read_back_exactly_once(urls: list[str], unique: str) -> None:
    experiment_id = new_experiment(urls[0], f"fleet-{len(urls)}-{unique}")
    shared = ok(httpx.post(f"{urls[0]}{API}/runs/create", json={"experiment_id": experiment_id}))
    shared_id = shared["run"]["info"]["run_id"]
    robin = RoundRobin(urls)
    created: list[list[str]] = [[] for _ in range(WRITERS)]
    steps_per_writer, batches_per_writer, runs_per_writer = 30, 6, 5

    def writer(index: int) -> None:
        for step in range(steps_per_writer):
            point = {"key": f"m{index}", "value": step, "timestamp": T0 + step, "step": step}
            ok(robin.post("runs/log-metric", {"run_id": shared_id, **point}))
        for batch_id in range(batches_per_writer):
            body = {
                "run_id": shared_id,
                "metrics": [
                    {"key": f"b{index}-{batch_id}", "value": i, "timestamp": T0 + i, "step": i}
                    for i in range(100)
                ],
                "params": [{"key": f"p{index}-{batch_id}", "value": str(batch_id)}],
                "tags": [{"key": f"t{index}", "value": str(batch_id)}],
            }
            ok(robin.post("runs/log-batch", body))
            if batch_id % 2:  # a client's retry after a lost answer, landing on another instance
                ok(robin.post("runs/log-batch", body))
        for _ in range(runs_per_writer):
            run = ok(robin.post("runs/create", {"experiment_id": experiment_id}))
            created[index].append(run["run"]["info"]["run_id"])

    try:
        with ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(writer, range(WRITERS)))
    finally:
        robin.close()

    acknowledged = sorted([shared_id, *itertools.chain.from_iterable(created)])
    for url in urls:  # every instance reads the same, complete data
        assert sorted(run_ids(url, experiment_id)) == acknowledged
        for index in range(WRITERS):
            assert history(url, shared_id, f"m{index}") == list(range(steps_per_writer))
            for batch_id in range(batches_per_writer):
                assert history(url, shared_id, f"b{index}-{batch_id}") == list(range(100))
        data = ok(httpx.get(f"{url}{API}/runs/get", params={"run_id": shared_id}))["run"]["data"]
        latest = {m["key"]: (m["step"], m["value"]) for m in data["metrics"]}
        assert len(data["metrics"]) == len(latest)
        for index in range(WRITERS):
            assert latest[f"m{index}"] == (steps_per_writer - 1, steps_per_writer - 1)
        assert len(data["params"]) == WRITERS * batches_per_writer
        tags = {t["key"]: t["value"] for t in data["tags"] if not t["key"].startswith("mlflow.")}
        assert tags == {f"t{i}": str(batches_per_writer - 1) for i in range(WRITERS)}


def race(urls: list[str], endpoint: str, bodies: list[dict]) -> list:
    """POST each body to ``endpoint`` from its own thread at the same moment, spread over
    the instances; each answer as ``("ok", body)`` or ``(status, error_code)``."""
    barrier = threading.Barrier(len(bodies))

    def one(i: int) -> tuple:
        barrier.wait()
        response = httpx.post(f"{urls[i % len(urls)]}{API}/{endpoint}", json=bodies[i], timeout=60)
        if response.status_code == 200:
            return ("ok", response.json())
        return (response.status_code, response.json().get("error_code"))

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, range(len(bodies))))


def one_winner(answers: list) -> dict:
    """Exactly one caller won; every other lost with RESOURCE_ALREADY_EXISTS (HTTP 400)."""
    winners = [body for outcome, body in answers if outcome == "ok"]
    losers = [answer for answer in answers if answer[0] != "ok"]
    assert len(winners) == 1, answers
    assert set(losers) == {(400, "RESOURCE_ALREADY_EXISTS")}, answers
    return winners[0]


CONTENDERS = 6
ROUNDS = 4


def test_experiment_names_stay_unique(urls: list[str], unique: str) -> None:
    for round_ in range(ROUNDS):
        name = f"race-exp-{unique}-{round_}"
        answers = race(urls, "experiments/create", [{"name": name}] * CONTENDERS)
        winner = one_winner(answers)["experiment_id"]
        for url in urls:
            found = MlflowClient(url).get_experiment_by_name(name)
            assert found is not None and found.experiment_id == winner
    # The mlflow client sees the loser's error as the code it keys on.
    with pytest.raises(MlflowException) as err:
        MlflowClient(urls[-1]).create_experiment(f"race-exp-{unique}-0")
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_registered_model_names_stay_unique(urls: list[str], unique: str) -> None:
    for round_ in range(ROUNDS):
        name = f"race-model-{unique}-{round_}"
        one_winner(race(urls, "registered-models/create", [{"name": name}] * CONTENDERS))
        listed = MlflowClient(urls[-1]).search_registered_models(f"name = '{name}'")
        assert [model.name for model in listed] == [name]


def test_renames_onto_one_name_leave_one_model(urls: list[str], unique: str) -> None:
    for round_ in range(ROUNDS):
        sources = [f"race-rename-{unique}-{round_}-{i}" for i in range(CONTENDERS)]
        for name in sources:
            ok(httpx.post(f"{urls[0]}{API}/registered-models/create", json={"name": name}))
        target = f"race-renamed-{unique}-{round_}"
        renames = [{"name": source, "new_name": target} for source in sources]
        answers = race(urls, "registered-models/rename", renames)
        one_winner(answers)
        client = MlflowClient(urls[-1])
        left = client.search_registered_models(f"name LIKE 'race-%-{unique}-{round_}%'")
        assert len(left) == CONTENDERS  # renamed or not, no model lost or doubled
        assert [m.name for m in left].count(target) == 1


def test_model_version_numbers_stay_distinct(urls: list[str], unique: str) -> None:
    name = f"race-versions-{unique}"
    ok(httpx.post(f"{urls[0]}{API}/registered-models/create", json={"name": name}))
    numbers: list[int] = []
    for round_ in range(ROUNDS):
        bodies = [{"name": name, "source": f"s3://bucket/{round_}/{i}"} for i in range(CONTENDERS)]
        answers = race(urls, "model-versions/create", bodies)
        assert all(outcome == "ok" for outcome, _ in answers), answers
        numbers += [int(body["model_version"]["version"]) for _, body in answers]
    assert sorted(numbers) == list(range(1, ROUNDS * CONTENDERS + 1))
    for url in urls:
        listed = MlflowClient(url).search_model_versions(f"name = '{name}'")
        assert sorted(int(v.version) for v in listed) == sorted(numbers)


def test_server_logs_are_clean(fleet: list[ServerProcess]) -> None:
    """No instance logged an unexpected error while the races ran (losers are 4xx)."""
    for proc in fleet[1:]:
        log = Path(proc.log_path).read_text()
        assert "Traceback" not in log, log[-4000:]
