"""Finding the resource a request touches, exactly as its handler will read the request.

A locator returns the keys of the experiments (ids, as strings) or registered models
(names) a request acts on. It parses with the handler's own message classes and parsers
(``parse_query`` for GET, ``parse_json`` otherwise), so the authorization layer and the
handler can never disagree about which resource is meant; malformed input fails here with
the same 400 the handler would give. A resource that does not exist locates to nothing,
and the handler answers its 404.

Keys that cannot name any experiment (an artifact path outside ``<experiment_id>/``, or
the artifact root itself) raise :class:`Unlocatable`: only admins may touch those.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import Message as AsgiMessage
from starlette.types import Receive, Scope

from service.artifacts import artifact_path
from service.http.parsing import Message, parse_json, parse_query, read_body
from service.store.experiments import parse_experiment_id

if TYPE_CHECKING:
    from service.auth.access import Access


class Unlocatable(Exception):
    """The request names something that belongs to no experiment or model."""


class RequestView:
    """The request as locators see it; reads the body at most once and replays it."""

    def __init__(self, scope: Scope, receive: Receive, path_params: dict[str, Any]) -> None:
        self.scope = scope
        self.path_params = path_params
        self._receive = receive
        self._body: bytes | None = None

    @property
    def method(self) -> str:
        method: str = self.scope["method"]
        return method

    async def message(self, message: type[Message]) -> Any:
        """The request parsed into ``message``, as the handler will parse it."""
        if self.method in ("GET", "HEAD"):
            return parse_query(Request(self.scope), message)
        if self._body is None:
            limit = self.scope["app"].state.settings.max_request_body_bytes
            self._body = await read_body(Request(self.scope, self._receive), limit)
        return await parse_json(Request(self.scope, _replay(self._body, self._receive)), message)

    def receive(self) -> Receive:
        """What the handler should read the body from."""
        return self._receive if self._body is None else _replay(self._body, self._receive)


Locator = Callable[[RequestView, "Access"], Awaitable[list[str]]]


def experiment_field(message: type[Message], attribute: str = "experiment_id") -> Locator:
    async def locate(view: RequestView, _access: Access) -> list[str]:
        msg = await view.message(message)
        return [str(parse_experiment_id(getattr(msg, attribute)))]

    return locate


def experiment_list(message: type[Message], attribute: str = "experiment_ids") -> Locator:
    async def locate(view: RequestView, _access: Access) -> list[str]:
        msg = await view.message(message)
        return [str(parse_experiment_id(e)) for e in getattr(msg, attribute)]

    return locate


def experiment_named(message: type[Message], attribute: str = "experiment_name") -> Locator:
    async def locate(view: RequestView, access: Access) -> list[str]:
        msg = await view.message(message)
        found = await run_in_threadpool(access.store.experiment_id_by_name, getattr(msg, attribute))
        return [] if found is None else [str(found)]

    return locate


def run_field(message: type[Message], runs: Callable[[Any], Sequence[str]]) -> Locator:
    """The experiments of the runs ``runs(msg)`` names (looked up once, then cached)."""

    async def locate(view: RequestView, access: Access) -> list[str]:
        msg = await view.message(message)
        return [str(e) for e in await access.experiments_of_runs(list(runs(msg)))]

    return locate


def run_query(param: str) -> Locator:
    """The experiment of the run named in the query string (for requests whose body is a file)."""

    async def locate(view: RequestView, access: Access) -> list[str]:
        run_id = Request(view.scope).query_params.get(param, "")
        return [str(e) for e in await access.experiments_of_runs([run_id] if run_id else [])]

    return locate


def logged_model_path(param: str = "model_id") -> Locator:
    async def locate(view: RequestView, access: Access) -> list[str]:
        found = await access.experiment_of_logged_model(view.path_params[param])
        return [] if found is None else [str(found)]

    return locate


def artifact(*, query: str | None = None, param: str = "artifact_path") -> Locator:
    """The experiment owning an artifact path: its first segment, ``<experiment_id>/...``."""

    async def locate(view: RequestView, _access: Access) -> list[str]:
        raw = (
            Request(view.scope).query_params.get(query, "")
            if query
            else view.path_params.get(param, "")
        )
        path = artifact_path(raw, allow_root=True)
        head = path.split("/", 1)[0]
        if not head.isdecimal() or head != str(int(head)):
            raise Unlocatable(f"The artifact path {raw!r} belongs to no experiment.")
        return [head]

    return locate


def model_field(message: type[Message], attribute: str = "name") -> Locator:
    async def locate(view: RequestView, _access: Access) -> list[str]:
        return [getattr(await view.message(message), attribute)]

    return locate


def traces(ids: Callable[[RequestView], Awaitable[Sequence[str]]]) -> Locator:
    """The experiments of the traces ``ids(view)`` names; unknown traces locate to nothing."""

    async def locate(view: RequestView, _access: Access) -> list[str]:
        store = view.scope["app"].state.store
        found = await run_in_threadpool(store.traces.experiments_of, list(await ids(view)))
        return [str(e) for e in found]

    return locate


def experiment_value(message: type[Message], value: Callable[[Any], int]) -> Locator:
    """The experiment ``value(msg)`` reads from a nested message (a new trace's location)."""

    async def locate(view: RequestView, _access: Access) -> list[str]:
        return [str(value(await view.message(message)))]

    return locate


def trace_path(param: str = "trace_id") -> Locator:
    async def ids(view: RequestView) -> list[str]:
        return [view.path_params[param]]

    return traces(ids)


def trace_field(message: type[Message], field: Callable[[Any], Sequence[str]]) -> Locator:
    async def ids(view: RequestView) -> Sequence[str]:
        return field(await view.message(message))

    return traces(ids)


def experiment_header(name: str) -> Locator:
    """The experiment named by a request header (OTLP export: ``x-mlflow-experiment-id``)."""

    async def locate(view: RequestView, _access: Access) -> list[str]:
        return [str(parse_experiment_id(Request(view.scope).headers.get(name)))]

    return locate


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields ``body`` once, then defers to the real one (disconnects)."""
    sent = False

    async def replay() -> AsgiMessage:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
