"""Search filters for handlers: which experiments and models the caller may see.

Search endpoints need only membership (service/auth/rules.py); their handlers pass these
filters to the store, so a page of results holds only readable resources and paging stays
exact. With auth off there is no caller and no filter.
"""

from __future__ import annotations

from starlette.requests import Request

from service.auth.permissions import Caller
from service.store.auth import ResourceKind, Visible


def _caller(request: Request) -> Caller | None:
    caller: Caller | None = request.scope.get("state", {}).get("caller")
    return caller


def visible_experiments(request: Request) -> Visible | None:
    caller = _caller(request)
    return None if caller is None else caller.visible(ResourceKind.EXPERIMENT)


def visible_models(request: Request) -> Visible | None:
    caller = _caller(request)
    return None if caller is None else caller.visible(ResourceKind.REGISTERED_MODEL)
