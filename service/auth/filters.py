"""What handlers ask of auth: which experiments and models the caller may see, and who
manages what they create.

Search endpoints need only membership (service/http/guard/rules.py); their handlers pass these
filters to the store, so a page of results holds only readable resources and paging stays
exact. With auth off there is no caller and no filter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

from service.auth.permissions import Caller
from service.store.auth import Visible
from service.store.entities.auth import ResourceKind

if TYPE_CHECKING:
    from service.auth.access import Access


def _caller(request: Request) -> Caller | None:
    caller: Caller | None = request.scope.get("state", {}).get("caller")
    return caller


def visible_experiments(request: Request) -> Visible | None:
    caller = _caller(request)
    return None if caller is None else caller.visible(ResourceKind.EXPERIMENT)


def visible_models(request: Request) -> Visible | None:
    caller = _caller(request)
    return None if caller is None else caller.visible(ResourceKind.REGISTERED_MODEL)


def creator(request: Request) -> str | None:
    """Who gets MANAGE on what this request creates (None with auth off)."""
    caller = _caller(request)
    return None if caller is None else caller.principal.username


def created(request: Request) -> None:
    """The creator's cached grants lack what this request just created: drop them."""
    caller = _caller(request)
    access: Access | None = getattr(request.app.state, "auth", None)
    if caller is not None and access is not None:
        access.grants_changed(caller.principal.username)
