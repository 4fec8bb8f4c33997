"""Big files: streamed both ways with flat server memory, over HTTP/1.1 and over h2c.

Every server speaks h2c next to HTTP/1.1 on one port, as on Cloud Run (artifacts on GCS
there): a file past Cloud Run's 32 MiB HTTP/1 limit goes through it as HTTP/2 with prior
knowledge, exactly as Cloud Run's front end forwards it to the container.
"""

from __future__ import annotations

import hashlib
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import httpx
import psutil
import pytest

from tests.conftest import GCS_TEST_BUCKET
from tests.support.server import ServerProcess
from tests.support.waiting import refuses_connections, wait_until

#: Subprocesses, browsers or large data: CI runs these, the default local run does not.
pytestmark = pytest.mark.slow

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
MiB = 1024 * 1024
#: Growth of the server's resident memory we tolerate while a big file streams through.
RSS_BUDGET = 50 * MiB


def payload(size: int) -> Iterator[bytes]:
    """``size`` bytes in 1 MiB chunks, distinct per chunk, never held in memory at once."""
    block = bytes(range(256)) * (MiB // 256)
    for index in range(size // MiB):
        yield index.to_bytes(8, "big") + block[8:]


def digest(chunks: Iterator[bytes]) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()


class PeakRss:
    """Samples a process's resident memory in the background; ``growth`` is peak - start."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.start = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.start


def round_trip(client: httpx.Client, server: ServerProcess, path: str, size: int) -> None:
    """Upload then download ``size`` bytes at ``path``, checking content and server memory."""
    client.put(f"{ARTIFACTS}/warmup/{path}", content=b"x" * MiB).raise_for_status()
    with PeakRss(server.process.pid) as rss:
        put = client.put(
            f"{ARTIFACTS}/{path}",
            content=payload(size),
            headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
        )
        assert put.status_code == 200, put.text
        with client.stream("GET", f"{ARTIFACTS}/{path}") as got:
            assert got.status_code == 200
            assert got.headers["content-length"] == str(size)
            assert digest(got.iter_bytes()) == digest(payload(size))
    assert rss.growth < RSS_BUDGET, f"server RSS grew by {rss.growth / MiB:.0f} MiB"


@pytest.fixture(scope="module")
def h2c_server(
    server: ServerProcess, gcs_emulator: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """The Cloud Run configuration: artifacts in a (emulated) GCS bucket."""
    proc = ServerProcess(
        database_url=server.database_url,
        artifact_root=f"gs://{GCS_TEST_BUCKET}/h2c-{time.time_ns()}",
        workdir=tmp_path_factory.mktemp("h2c"),
        env={"STORAGE_EMULATOR_HOST": gcs_emulator},
    ).start()
    yield proc
    proc.stop()


def test_large_upload_streams_with_flat_memory(server: ServerProcess, unique: str) -> None:
    with httpx.Client(base_url=server.url, timeout=300) as client:
        round_trip(client, server, f"big-{unique}/artifacts/model.bin", 384 * MiB)


def test_h2c_carries_a_file_past_cloud_runs_32_mib_limit(
    h2c_server: ServerProcess, unique: str
) -> None:
    with httpx.Client(base_url=h2c_server.url, http1=False, http2=True, timeout=300) as client:
        assert client.get("/health").http_version == "HTTP/2"
        round_trip(client, h2c_server, f"h2c-{unique}/artifacts/weights.bin", 48 * MiB)


def test_h2c_server_still_speaks_http1(h2c_server: ServerProcess) -> None:
    response = httpx.get(f"{h2c_server.url}/health")
    assert response.status_code == 200 and response.http_version == "HTTP/1.1"
    assert "server" not in response.headers


def h2_put(url: str, path: str, chunks: Iterator[bytes], size: int) -> int:
    """PUT over h2c with the bare h2 library; returns the status.

    httpx aborts every open stream on a GOAWAY, even the ones the server promises to
    finish; a graceful GOAWAY is exactly what a draining server sends, and Cloud Run's
    front end, like this client, keeps sending the streams it covers.
    """
    host, port = url.removeprefix("http://").split(":")
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    with socket.create_connection((host, int(port)), timeout=30) as sock:

        def pump() -> list[h2.events.Event]:
            events = conn.receive_data(sock.recv(65536))
            sock.sendall(conn.data_to_send())
            return events

        conn.initiate_connection()
        stream = conn.get_next_available_stream_id()
        headers = [(":method", "PUT"), (":path", path), (":scheme", "http")]
        conn.send_headers(stream, [*headers, (":authority", host), ("content-length", str(size))])
        sock.sendall(conn.data_to_send())
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                while conn.local_flow_control_window(stream) == 0:
                    pump()
                piece = min(len(view), conn.local_flow_control_window(stream), 16384)
                conn.send_data(stream, view[:piece].tobytes())
                sock.sendall(conn.data_to_send())
                view = view[piece:]
        conn.end_stream(stream)
        sock.sendall(conn.data_to_send())
        while True:
            for event in pump():
                if isinstance(event, h2.events.ResponseReceived):
                    return int(dict(event.headers)[b":status"])


def test_h2c_server_drains_an_upload_on_sigterm(
    server: ServerProcess, tmp_path: Path, unique: str
) -> None:
    draining = ServerProcess(
        database_url=server.database_url,
        artifact_root=str(tmp_path / "artifacts"),
        workdir=tmp_path,
    ).start()
    size = 8 * MiB

    def draining_midway() -> Iterator[bytes]:
        """The first MiB, which the handler has read (it refilled the flow-control window
        for it); then SIGTERM, and the rest once the server has stopped accepting."""
        chunks = payload(size)
        yield next(chunks)
        draining.process.send_signal(signal.SIGTERM)
        wait_until(lambda: refuses_connections(draining.url), "the server to stop accepting")
        yield from chunks

    status = h2_put(draining.url, f"{ARTIFACTS}/drain-{unique}/a.bin", draining_midway(), size)
    assert status == 200
    assert draining.process.wait(30) == 0
    stored = tmp_path / "artifacts" / f"drain-{unique}" / "a.bin"
    assert digest(iter([stored.read_bytes()])) == digest(payload(size))


def test_interrupted_upload_publishes_nothing(server: ServerProcess, unique: str) -> None:
    path = f"{ARTIFACTS}/cut-{unique}/artifacts/partial.bin"
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        head = f"PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {10 * MiB}\r\n\r\n"
    staging = Path(server.artifact_root, ".stratus-staging")

    def staged() -> list[Path]:
        return list(staging.iterdir()) if staging.exists() else []

    with socket.create_connection((host, int(port))) as sock:
        head = f"PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {10 * MiB}\r\n\r\n"
        sock.sendall(head.encode() + b"x" * (3 * MiB))
        wait_until(staged, "the upload to be staged")
    wait_until(lambda: not staged(), "the cut upload's staging file to be removed")
    with httpx.Client(base_url=server.url) as client:
        assert client.get(path).status_code == 404
        assert client.get(ARTIFACTS, params={"path": f"cut-{unique}/artifacts"}).json() == {}
