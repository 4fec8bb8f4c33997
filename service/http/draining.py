"""Read what is left of a request body before answering a request that did not read it.

An early answer (a 400 for an oversized body, a 401, a 503 from a full disk or a busy
server) would leave the client still sending: HTTP/1.1 clients send the whole body
before they read the answer, and hypercorn does not read on their behalf, so the client
would hang until its write timeout. So when the answer starts and the body is not
finished, the rest of it is read and dropped first.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class DrainUnreadBody:
    """ASGI middleware: the request body is read to its end before the answer starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        finished = False

        async def tracked() -> Message:
            nonlocal finished
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                finished = True
            return message

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                while not finished:
                    await tracked()
            await send(message)

        await self.app(scope, tracked, answer)
