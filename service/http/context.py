"""What handlers take from the application: the stores, and a way to call them."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from service.store import Store

P = ParamSpec("P")
R = TypeVar("R")


def store(request: Request) -> Store:
    found: Store = request.app.state.store
    return found


async def blocking(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a (synchronous, database-bound) store call off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)
