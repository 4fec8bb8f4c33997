"""A small HTTP proxy in front of the GCS emulator that fails chosen requests, the way
GCS does in its bad moments: an error status, or a connection cut in the middle of a
body. gcsfs is pointed at it with ``STORAGE_EMULATOR_HOST``.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Fault:
    """What to do to a request that ``matches``: answer ``status``, or, with ``cut``,
    forward it and send only the first half of the answer's body, then close."""

    matches: Callable[[str, str, dict[str, str]], bool]
    status: int | None = None
    cut: bool = False


class _Handler(BaseHTTPRequestHandler):
    upstream: str
    faults: list[Fault]
    hits: list[str]

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        fault = next((f for f in self.faults if f.matches(self.command, self.path, headers)), None)
        if fault is not None and fault.status is not None:
            self.hits.append(f"{self.command} {self.path} -> {fault.status}")
            payload = b'{"error": {"code": %d, "message": "injected"}}' % fault.status
            self.send_response(fault.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        target = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
        finally:
            conn.close()
        self.send_response(answer.status)
        host, port = self.server.server_address[:2]
        for key, value in answer.getheaders():
            if key.lower() == "location":  # a resumable upload's session URL: keep it here
                value = value.replace(self.upstream.rstrip("/"), f"http://{host}:{port}")
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault is not None and fault.cut:
            self.hits.append(f"{self.command} {self.path} -> cut")
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def faulty_proxy(upstream: str, faults: list[Fault]) -> Iterator[tuple[str, list[str]]]:
    """``(proxy URL, log of the faults it applied)``; ``faults`` may change while it runs."""
    hits: list[str] = []
    handler = type("Handler", (_Handler,), {"upstream": upstream, "faults": faults, "hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", hits
    finally:
        server.shutdown()
        server.server_close()
