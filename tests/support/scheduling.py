"""How ``pytest -n N`` (pytest-xdist) shares the suite among its workers.

tests/conftest.py installs :class:`SuiteScheduling` for ``--dist loadgroup`` (the default in
pyproject.toml), which hands out the tests in units, in this order:

1. the groups, each a unit: tests marked ``@pytest.mark.xdist_group("name")`` run on one
   worker, so what they share is made once (the web UI's tests: one seeded server, one
   browser);
2. the other tests in pytest's own order, cut into units where the module changes. pytest
   orders the tests by backend (every SQLite test, then PostgreSQL, then MariaDB), so a
   worker moves from one backend to the next a few times only: a session fixture with a
   backend parameter (the ``server``, its database) is torn down and made again at each
   move, as pytest keeps one instance of it at a time. A module's tests on one backend stay
   together, so its module fixtures are made once per backend, as in a serial run;
3. last, the group ``"serial"``, alone: held back until every other worker has finished,
   for tests that time the server and need the rest of the machine idle.

The groups reach the scheduler in a file per worker (:func:`write_groups`): pytest-xdist's
own way, a suffix on the test ids, has no effect since pytest 9.2 (pytest-xdist issue 1386).

Each worker is its own pytest session, with its own session fixtures (servers, scratch
databases, temp folders); tests already use unique names and free ports.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling
from xdist.workermanage import WorkerController

#: The group whose tests run last, one at a time, with no other test running.
SERIAL = "serial"
#: The key of ``workerinput`` (what the controller hands each worker) naming its groups file.
GROUPS_FILE = "stratus_groups_file"


def group_of(item: pytest.Item) -> str | None:
    """The ``xdist_group`` of a test, if it has one."""
    names = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    return "_".join(sorted(names)) or None


def write_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a worker, after collection: the group of each grouped test, for the scheduler."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    if GROUPS_FILE in workerinput:
        groups = {item.nodeid: group for item in items if (group := group_of(item))}
        Path(workerinput[GROUPS_FILE]).write_text(json.dumps(groups))


def units_of(collection: list[str], groups: dict[str, str]) -> OrderedDict[str, dict[str, bool]]:
    """The collection in units, in the order they are handed out (the serial group last)."""
    grouped: OrderedDict[str, dict[str, bool]] = OrderedDict()
    runs: OrderedDict[str, dict[str, bool]] = OrderedDict()
    module = key = None
    for nodeid in collection:
        if nodeid in groups:
            grouped.setdefault(groups[nodeid], {})[nodeid] = False
            continue
        if nodeid.split("::", 1)[0] != module:
            module = nodeid.split("::", 1)[0]
            key = f"{module}#{len(runs)}"
            runs[key] = {}
        runs[key][nodeid] = False
    serial = grouped.pop(SERIAL, None)
    units = OrderedDict([*grouped.items(), *runs.items()])
    if serial is not None:
        units[SERIAL] = serial
    return units


class SuiteScheduling(LoadScopeScheduling):
    """Groups, then module runs in pytest's order, then the ``serial`` group alone."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        #: The unit of each test id.
        self.unit: dict[str, str] = {}
        #: Units held back until every other worker is done: the ``serial`` group.
        self.held: OrderedDict[str, dict[str, bool]] = OrderedDict()
        #: The worker kept to run the held units once it is the only one left.
        self.serial_node: WorkerController | None = None

    def _split_scope(self, nodeid: str) -> str:
        return self.unit[nodeid]

    @property
    def tests_finished(self) -> bool:
        return not self.held and super().tests_finished

    @property
    def has_pending(self) -> bool:
        return bool(self.held) or super().has_pending

    def schedule(self) -> None:
        assert self.collection_is_completed
        if self.collection is not None:  # the first distribution is done
            for node in self.nodes:
                self._reschedule(node)
            return
        if not self._check_nodes_have_same_collection():
            self.log("**Different tests collected, aborting run**")
            return
        first, collection = next(iter(self.registered_collections.items()))
        self.collection = list(collection)
        if not self.collection:
            return

        groups_file = getattr(first, "workerinput", {}).get(GROUPS_FILE)
        groups = json.loads(Path(groups_file).read_text()) if groups_file else {}
        for unit, tests in units_of(self.collection, groups).items():
            self.workqueue[unit] = tests
            self.unit.update(dict.fromkeys(tests, unit))
        if SERIAL in self.workqueue and len(self.workqueue) > 1:
            self.held[SERIAL] = self.workqueue.pop(SERIAL)

        for _ in range(len(self.nodes) - len(self.workqueue)):
            unused, _assigned = self.assigned_work.popitem()  # more workers than units
            unused.shutdown()
        for node in self.nodes:
            self._assign_work_unit(node)
        for node in self.nodes:  # a second unit each, so no worker waits for its next one
            self._reschedule(node)

    def _reschedule(self, node: WorkerController) -> None:
        if node.shutting_down:
            return
        if not self.workqueue and self.held:
            if self.serial_node is None:
                self.serial_node = node
            if node is self.serial_node:  # it waits; the others are shut down
                self._release_held_if_alone()
                return
        super()._reschedule(node)

    def remove_node(self, node: WorkerController) -> str | None:
        crashed = super().remove_node(node)
        if node is self.serial_node:
            self.serial_node = None
        if self.held and self.serial_node is None:
            idle = [other for other in self.nodes if not other.shutting_down]
            self.serial_node = idle[0] if idle else None
        self._release_held_if_alone()
        return crashed

    def _release_held_if_alone(self) -> None:
        """Send the held units to the serial worker once every other worker has left."""
        if self.serial_node is None or self.nodes != [self.serial_node]:
            return
        while self.held:
            unit, tests = self.held.popitem(last=False)
            self.workqueue[unit] = tests
            self._assign_work_unit(self.serial_node)
