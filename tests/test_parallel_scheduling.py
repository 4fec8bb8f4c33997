"""tests/support/scheduling.py: how ``pytest -n N`` hands out the suite, replayed with
workers that follow pytest-xdist's protocol (a worker runs a test once it holds the next one
or was told to shut down, and leaves when shut down with nothing left)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.scheduling import GROUPS_FILE, SuiteScheduling, units_of

COLLECTION = [
    "tests/a/test_one.py::test_x[sqlite]",
    "tests/a/test_one.py::test_y[sqlite]",
    "tests/a/test_two.py::test_x[sqlite]",
    "tests/a/test_flood.py::test_ratio[sqlite]",
    "tests/a/test_one.py::test_x[postgresql]",
    "tests/a/test_one.py::test_y[postgresql]",
    "tests/a/test_two.py::test_x[postgresql]",
    "tests/a/test_two.py::test_z[a@b]",
    "tests/a/test_flood.py::test_kdf",
    "tests/ui/test_pages.py::test_runs",
    "tests/ui/test_pages.py::test_models",
    "tests/ui/test_live.py::test_live",
]
#: What the workers report: the tests marked ``@pytest.mark.xdist_group(name)``.
GROUPS = {
    "tests/a/test_flood.py::test_ratio[sqlite]": "serial",
    "tests/a/test_flood.py::test_kdf": "serial",
    "tests/ui/test_pages.py::test_runs": "ui",
    "tests/ui/test_pages.py::test_models": "ui",
    "tests/ui/test_live.py::test_live": "ui",
}


@dataclass(eq=False)  # hashable by identity, as the scheduler keys its work by worker
class Worker:
    """What the scheduler sees of a pytest-xdist worker."""

    name: str
    workerinput: dict[str, str]
    queue: list[int] = field(default_factory=list)
    shutting_down: bool = False

    @property
    def gateway(self) -> SimpleNamespace:
        return SimpleNamespace(id=self.name)

    def send_runtest_some(self, indices: list[int]) -> None:
        self.queue.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True


class Config:
    def __init__(self, workers: int) -> None:
        self.workers = workers

    def getvalue(self, name: str) -> list[str]:
        assert name == "tx"
        return ["popen"] * self.workers


@dataclass
class Ran:
    worker: str
    nodeid: str
    alive: set[str]


def replay(collection: list[str], workers: int, folder: Path) -> list[Ran]:
    scheduler = SuiteScheduling(Config(workers))  # type: ignore[arg-type]
    alive = []
    for i in range(workers):
        groups = folder / f"gw{i}.json"  # as tests/support/scheduling.py write_groups does
        groups.write_text(json.dumps({k: v for k, v in GROUPS.items() if k in collection}))
        alive.append(Worker(f"gw{i}", {GROUPS_FILE: str(groups)}))
    for worker in alive:
        scheduler.add_node(worker)  # type: ignore[arg-type]
    for worker in alive:
        scheduler.add_node_collection(worker, collection)  # type: ignore[arg-type]
    scheduler.schedule()
    ran: list[Ran] = []
    progress = True
    while alive and progress:
        progress = False
        for worker in list(alive):
            if len(worker.queue) > 1 or (worker.shutting_down and worker.queue):
                index = worker.queue.pop(0)
                ran.append(Ran(worker.name, collection[index], {w.name for w in alive}))
                scheduler.mark_test_complete(worker, index)  # type: ignore[arg-type]
                progress = True
            if scheduler.tests_finished:  # the controller then shuts every worker down
                for other in alive:
                    other.shutdown()
            if worker.shutting_down and not worker.queue:
                if worker in scheduler.nodes:  # not if it was shut down before any work
                    scheduler.remove_node(worker)  # type: ignore[arg-type]
                alive.remove(worker)
                progress = True
    assert not alive, "a worker was left waiting"
    return ran


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_every_test_runs_once_and_the_serial_group_alone_at_the_end(
    workers: int, tmp_path: Path
) -> None:
    ran = replay(COLLECTION, workers, tmp_path)
    assert sorted(r.nodeid for r in ran) == sorted(COLLECTION)
    serial = [r for r in ran if GROUPS.get(r.nodeid) == "serial"]
    assert len(serial) == 2
    assert ran[-len(serial) :] == serial
    assert all(r.alive == {r.worker} for r in serial)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_group_and_a_module_s_run_on_one_backend_stay_on_one_worker(
    workers: int, tmp_path: Path
) -> None:
    where = {r.nodeid: r.worker for r in replay(COLLECTION, workers, tmp_path)}
    for tests in units_of(COLLECTION, GROUPS).values():
        assert len({where[nodeid] for nodeid in tests}) == 1, tests


def test_units_groups_first_then_module_runs_in_pytest_s_order_then_serial() -> None:
    units = units_of(COLLECTION, GROUPS)
    assert list(units) == [
        "ui",
        "tests/a/test_one.py#0",
        "tests/a/test_two.py#1",
        "tests/a/test_one.py#2",
        "tests/a/test_two.py#3",
        "serial",
    ]
    assert list(units["tests/a/test_two.py#3"]) == [
        "tests/a/test_two.py::test_x[postgresql]",
        "tests/a/test_two.py::test_z[a@b]",
    ]


def test_only_serial_tests_still_run(tmp_path: Path) -> None:
    serial = [nodeid for nodeid, group in GROUPS.items() if group == "serial"]
    assert [r.nodeid for r in replay(serial, 2, tmp_path)] == serial
