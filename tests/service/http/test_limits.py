"""The bound on requests in flight: more wait, then get a 503 the client retries;
``/health`` is always answered."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from service.http.limits import ConcurrencyLimit


def _app(release: asyncio.Event) -> Starlette:
    async def slow(_request: Request) -> PlainTextResponse:
        await release.wait()
        return PlainTextResponse("done")

    async def health(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/slow", slow), Route("/health", health)])
    app.add_middleware(ConcurrencyLimit, limit=2, queue_seconds=0.3)
    return app


def test_past_the_bound_requests_wait_then_get_503_and_health_is_served() -> None:
    async def scenario() -> tuple[list[httpx.Response], httpx.Response, list[httpx.Response]]:
        release = asyncio.Event()
        transport = httpx.ASGITransport(app=_app(release))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            busy = [asyncio.create_task(client.get("/slow")) for _ in range(2)]
            await asyncio.sleep(0.05)  # both slots taken
            shed = await client.get("/slow")  # waits 0.3 s for a slot, then 503
            health = await client.get("/health")
            queued = asyncio.create_task(client.get("/slow"))  # will get the first free slot
            await asyncio.sleep(0.05)
            release.set()
            return [shed], health, [*(await asyncio.gather(*busy)), await queued]

    (shed,), health, served = asyncio.run(scenario())
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "1"
    assert shed.json() == {
        "error_code": "TEMPORARILY_UNAVAILABLE",
        "message": "The server is busy; retry shortly.",
    }
    assert health.status_code == 200
    assert [r.text for r in served] == ["done", "done", "done"]
