"""Fixtures for the Pulumi program's tests. Imports pulumi only inside fixtures, so the rest
of the suite is unaffected when the infra extra is not installed (the test modules skip)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def program() -> Any:
    """Build the real infra/__main__.py with the base config plus overrides; returns the graph."""
    import infra_mocks

    def run(config: dict[str, str] | None = None) -> infra_mocks.Graph:
        graph = infra_mocks.install(config)
        return infra_mocks.build(graph, infra_mocks.run_main)

    return run


@pytest.fixture
def default_graph(program: Any) -> Any:
    return program()
