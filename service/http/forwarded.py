"""The client's address and scheme from ``X-Forwarded-*``, believed only from trusted proxies.

Behind Cloud Run's front end (or any TLS-terminating proxy) the peer of every request is
the proxy, and the proxy tells who the client was and whether it used https. Anyone else
could say the same, so the headers count only when the peer is in
``STRATUS_FORWARDED_ALLOW_IPS``. The client is the right-most ``X-Forwarded-For`` entry
that is not itself a trusted proxy: entries to its left were written by the client and
prove nothing. ``*`` trusts any peer (on Cloud Run only its front end can reach the
container, from addresses Google does not document) but no entry of the header, so the
client is the right-most entry, the one that peer wrote; uvicorn would take the left-most,
which the client chooses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

_SCHEMES = {"http", "https", "ws", "wss"}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted(entries: Sequence[str]) -> tuple[bool, tuple[Network, ...]]:
    """``(trust any peer, trusted networks)``; raises ValueError for what is neither."""
    trust_all = "*" in entries
    networks = tuple(ipaddress.ip_network(entry, strict=False) for entry in entries if entry != "*")
    return trust_all, networks


class ForwardedHeaders:
    """ASGI middleware: rewrite ``scope["client"]`` and ``scope["scheme"]`` as above."""

    def __init__(self, app: ASGIApp, trusted: Sequence[str]) -> None:
        self.app = app
        self._trust_all, self._networks = parse_trusted(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            if client is not None and self._trusts(client[0]):
                self._apply(scope)
        await self.app(scope, receive, send)

    def _trusts(self, host: str) -> bool:
        """Whether the peer ``host`` is a proxy whose forwarded headers count."""
        return self._trust_all or self._is_proxy(host)

    def _is_proxy(self, host: str) -> bool:
        """Whether ``host`` is in a configured proxy network (``*`` names none)."""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:  # a Unix socket path, or a test client's name
            return False
        return any(address in network for network in self._networks)

    def _apply(self, scope: Scope) -> None:
        proto: str | None = None
        hops: list[str] = []
        for name, value in scope["headers"]:
            if name == b"x-forwarded-proto" and proto is None:
                proto = value.decode("latin-1").split(",")[0].strip().lower()
            elif name == b"x-forwarded-for":
                hops.extend(h.strip() for h in value.decode("latin-1").split(",") if h.strip())
        if proto in _SCHEMES:
            if scope["type"] == "websocket":
                proto = proto.replace("http", "ws")
            scope["scheme"] = proto
        if hops:
            client = next((h for h in reversed(hops) if not self._is_proxy(h)), hops[0])
            scope["client"] = (client, 0)
