"""A light HTTP/1.1 client: one keep-alive connection, orjson, nothing else.

The benchmark must measure the server, not the client, so this is ``http.client`` with
the least work per request. Every call checks the status: a server that answers errors
fast must never look fast.
"""

from __future__ import annotations

import hashlib
import http.client
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
MB = 1024 * 1024
STREAM_BLOCK = MB


class BenchError(RuntimeError):
    """A response that was wrong: bad status, or content that does not add up."""


class Client:
    """One persistent connection to one server. Not thread-safe: one per thread."""

    def __init__(self, base_url: str, timeout: float = 900.0) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout, blocksize=STREAM_BLOCK
            )
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """Send one request and read the whole response; reconnects once if the server
        closed an idle keep-alive connection."""
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=headers or {})
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2 or not isinstance(body, bytes | None):
                    raise
                continue
            if response.will_close:
                self.close()
            return response.status, data
        raise AssertionError("unreachable")

    # --- JSON API -----------------------------------------------------------------------

    def get(self, endpoint: str, **query: Any) -> dict[str, Any]:
        path = f"{API}/{endpoint}"
        if query:
            path += "?" + urlencode(query, doseq=True)
        return _json(endpoint, *self.request("GET", path, headers={"Accept": "application/json"}))

    def post(self, endpoint: str, payload: dict[str, Any]) -> dict[str, Any]:
        status, data = self.request(
            "POST", f"{API}/{endpoint}", orjson.dumps(payload), JSON_HEADERS
        )
        return _json(endpoint, status, data)

    def get_ok(self, path: str) -> bytes:
        """GET any path; the body, after checking for a 200."""
        status, data = self.request("GET", path)
        if status != 200:
            raise BenchError(f"GET {path}: HTTP {status}: {data[:300]!r}")
        return data

    # --- artifacts ----------------------------------------------------------------------

    def upload(self, artifact_path: str, chunks: Iterable[bytes], size: int) -> None:
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        status, data = self.request("PUT", f"{ARTIFACTS}/{artifact_path}", chunks, headers)
        if status != 200:
            raise BenchError(f"upload {artifact_path}: HTTP {status}: {data[:300]!r}")

    def download(self, artifact_path: str) -> tuple[int, str]:
        """Stream a file down; its size and sha256 (the body is never held whole)."""
        conn = self._connection()
        conn.request("GET", f"{ARTIFACTS}/{artifact_path}")
        response = conn.getresponse()
        if response.status != 200:
            data = response.read()
            self.close()
            raise BenchError(f"download {artifact_path}: HTTP {response.status}: {data[:300]!r}")
        digest = hashlib.sha256()
        size = 0
        while block := response.read(STREAM_BLOCK):
            digest.update(block)
            size += len(block)
        if response.will_close:
            self.close()
        return size, digest.hexdigest()


def _json(endpoint: str, status: int, data: bytes) -> dict[str, Any]:
    if status != 200:
        raise BenchError(f"{endpoint}: HTTP {status}: {data[:300]!r}")
    try:
        parsed = orjson.loads(data) if data else {}
    except orjson.JSONDecodeError as exc:
        raise BenchError(f"{endpoint}: not JSON: {data[:200]!r}") from exc
    if not isinstance(parsed, dict):
        raise BenchError(f"{endpoint}: expected a JSON object, got {data[:200]!r}")
    return parsed


def now_ms() -> int:
    return int(time.time() * 1000)


def pattern_chunks(size: int, seed: int = 7) -> Iterator[bytes]:
    """``size`` bytes of incompressible-looking data, generated block by block."""
    block = hashlib.sha256(str(seed).encode()).digest() * (STREAM_BLOCK // 32)
    # Vary each block so a server cannot dedupe; a counter prefix is enough.
    sent, index = 0, 0
    while sent < size:
        piece = index.to_bytes(8, "big") + block[8:]
        piece = piece[: size - sent]
        yield piece
        sent += len(piece)
        index += 1


def pattern_digest(size: int, seed: int = 7) -> str:
    digest = hashlib.sha256()
    for piece in pattern_chunks(size, seed):
        digest.update(piece)
    return digest.hexdigest()
