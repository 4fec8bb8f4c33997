"""Tracing tests: the real mlflow client's tracing against a live server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def experiment(tracking_uri: str, unique: str) -> Iterator[str]:
    """A fresh experiment, active for the fluent API (traces land in it)."""
    import mlflow

    experiment_id = mlflow.create_experiment(f"traces-{unique}")
    mlflow.set_experiment(experiment_id=experiment_id)
    yield experiment_id


def flush() -> None:
    """Wait until the client has sent every finished trace (it exports in the background)."""
    import mlflow

    mlflow.flush_trace_async_logging(terminate=False)
