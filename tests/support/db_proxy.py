"""A TCP proxy between the server and its database that counts round trips on the wire.

A round trip is one turn of the conversation: the client sends (one or more segments,
without waiting), then the database answers. The proxy sees both directions of each
connection in one thread, in the order the bytes arrive, so the count is exact whatever
the protocol (PostgreSQL, MySQL): it counts the times the client starts speaking again
after the database has spoken (or speaks first on a new connection).
"""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url


class RoundTripProxy:
    """Forward ``127.0.0.1:port`` to ``upstream``; :attr:`round_trips` counts every turn."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._round_trips = 0
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def round_trips(self) -> int:
        with self._lock:
            return self._round_trips

    def url_for(self, url: str) -> str:
        """``url`` with its host and port replaced by the proxy's."""
        proxied = make_url(url).set(host="127.0.0.1", port=self.port)
        return proxied.render_as_string(hide_password=False)

    def close(self) -> None:
        self._closed.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peer = {client: server, server: client}
        last_speaker: socket.socket | None = None
        with selectors.DefaultSelector() as selector, client, server:
            selector.register(client, selectors.EVENT_READ)
            selector.register(server, selectors.EVENT_READ)
            while not self._closed.is_set():
                for key, _ in selector.select(timeout=0.5):
                    sock: socket.socket = key.fileobj  # type: ignore[assignment]
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        return
                    if sock is client and last_speaker is not client:
                        with self._lock:
                            self._round_trips += 1
                    last_speaker = sock
                    peer[sock].sendall(data)


@contextmanager
def round_trip_proxy(url: str) -> Iterator[RoundTripProxy]:
    """A proxy in front of the database of ``url`` (PostgreSQL or MySQL)."""
    parsed = make_url(url)
    default_port = 5432 if parsed.get_backend_name() == "postgresql" else 3306
    proxy = RoundTripProxy(parsed.host or "127.0.0.1", parsed.port or default_port)
    try:
        yield proxy
    finally:
        proxy.close()
