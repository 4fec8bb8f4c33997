"""Wrong passwords cannot stall the instance (issue #16, case 4).

A flood of wrong basic-auth passwords from a separate process must leave authenticated
requests on the same server within 2x of their unloaded latency. The latency is a ratio of
medians over many requests, measured in alternating quiet and flooded rounds within one
test, so load from the rest of the machine affects both sides alike. The flood gets its own
server: it throttles this machine's address, which would disturb other tests' servers.
"""

from __future__ import annotations

import base64
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from service.auth.passwords import PasswordVerifier, hash_password
from service.store.auth import AuthStore
from service.store.db import Database
from tests.auth.conftest import ADMIN, MEMBERS, AuthServer, auth_env
from tests.auth.fake_google import FakeGoogle
from tests.support.backends import scratch_database
from tests.support.server import ServerProcess

#: The KDF gate and the failure throttle live in the server process, whatever the database:
#: the default run floods one server, CI one per backend (the gate and throttle themselves
#: are unit-tested in test_units.py).
pytestmark = [
    pytest.mark.slow_except("sqlite"),
    # The latency ratio needs a core to spare: in a parallel run, these run last and alone.
    pytest.mark.xdist_group("serial"),
]

USER, PASSWORD = "flood-target", "right-password-1"
ROUNDS, PROBES = 6, 25

#: The flood: ``workers`` keep-alive connections, each sending a wrong password for the
#: known user, waiting for the answer, pausing, and again. Raw sockets keep the flooding
#: process's own CPU use small, so the ratio measures the server.
FLOOD = textwrap.dedent(
    """
    import asyncio, base64, sys
    from urllib.parse import urlsplit

    url, workers, user = urlsplit(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    auth = base64.b64encode(f"{user}:wrong-password".encode()).decode()
    request = (
        f"GET /api/2.0/mlflow/experiments/search HTTP/1.1\\r\\nHost: {url.netloc}\\r\\n"
        f"Authorization: Basic {auth}\\r\\n\\r\\n"
    ).encode()

    async def worker():
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        while True:
            writer.write(request)
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\\r\\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            await asyncio.sleep(0.1)

    async def main():
        await asyncio.gather(*(worker() for _ in range(workers)))

    asyncio.run(main())
    """
)


def basic(username: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


@pytest.fixture(scope="module")
def flood_server(
    backend: str, fake_google: FakeGoogle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AuthServer]:
    workdir = tmp_path_factory.mktemp(f"flood-{backend}")
    with scratch_database(backend, workdir) as url:
        process = ServerProcess(
            database_url=url,
            artifact_root=str(workdir / "artifacts"),
            workdir=workdir,
            env=auth_env(fake_google),
        ).start()
        server = AuthServer(process, url, fake_google)
        with httpx.Client(base_url=server.url, headers=server.headers(ADMIN)) as admin:
            created = admin.post(
                "/api/2.0/mlflow/users/create", json={"username": USER, "password": PASSWORD}
            )
            assert created.status_code == 200, created.text
        yield server
        process.stop()


def _probe_latencies(client: httpx.Client, headers: dict[str, str]) -> list[float]:
    found = []
    for _ in range(PROBES):
        started = time.perf_counter()
        response = client.get("/api/2.0/mlflow/experiments/search?max_results=1", headers=headers)
        found.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return found


def test_a_burst_of_password_checks_is_shed_with_retry_after(flood_server: AuthServer) -> None:
    def attempt(n: int) -> httpx.Response:
        with httpx.Client(base_url=flood_server.url, timeout=30) as client:
            return client.get("/version", headers=basic(f"burst-{n}", "wrong-password"))

    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(attempt, range(30)))
    statuses = {a.status_code for a in answers}
    assert statuses <= {401, 429}, statuses
    shed = [a for a in answers if a.status_code == 429]
    assert shed, "a burst beyond the KDF queue must be shed"
    assert all(int(a.headers["retry-after"]) >= 1 for a in shed)
    assert all(a.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED" for a in shed)


def test_a_user_checked_before_keeps_access_while_their_name_is_throttled(
    flood_server: AuthServer,
) -> None:
    with httpx.Client(base_url=flood_server.url, timeout=30) as client:
        assert client.get("/version", headers=basic(USER, PASSWORD)).status_code == 200
        for _ in range(8):
            client.get("/version", headers=basic(USER, "a-wrong-guess"))
        guess = client.get("/version", headers=basic(USER, "another-guess"))
        assert guess.status_code == 429
        assert client.get("/version", headers=basic(USER, PASSWORD)).status_code == 200


def test_a_wrong_password_flood_leaves_authenticated_requests_fast(
    flood_server: AuthServer,
) -> None:
    with httpx.Client(base_url=flood_server.url, timeout=30) as client:
        token = client.post(
            "/api/2.0/stratus/tokens/create",
            json={"name": "probe"},
            headers=flood_server.headers(MEMBERS[0]),
        ).json()["token"]
        authenticated = {"Authorization": f"Bearer {token}"}
        _probe_latencies(client, authenticated)  # warm up
        quiet: list[float] = []
        flooded: list[float] = []
        for _ in range(ROUNDS):
            quiet += _probe_latencies(client, authenticated)
            flood = subprocess.Popen([sys.executable, "-c", FLOOD, flood_server.url, "45", USER])
            try:
                time.sleep(1.0)  # let the flood build up
                flooded += _probe_latencies(client, authenticated)
            finally:
                flood.kill()
                flood.wait()
        loaded, unloaded = statistics.median(flooded), statistics.median(quiet)
        assert loaded <= 2.0 * unloaded, (
            f"median latency {loaded / unloaded:.2f}x under a wrong-password flood "
            f"({loaded * 1000:.1f} ms vs {unloaded * 1000:.1f} ms)"
        )


def test_unknown_users_cost_a_kdf_run_too(migrated_database: Database) -> None:
    """No timing oracle: an unknown username pays the same KDF (CPU time, not wall time)."""
    store = AuthStore(migrated_database)
    username = f"known-{time.time_ns()}"
    store.create_user(username, hash_password(PASSWORD))
    verifier = PasswordVerifier(store, 0)
    verifier.verify("warm-up", "x")

    def cpu(user: str) -> float:
        started = time.process_time()
        for _ in range(5):
            assert not verifier.verify(user, "wrong-password")
        return time.process_time() - started

    known, unknown = cpu(username), cpu(f"unknown-{username}")
    assert 0.5 <= unknown / known <= 2.0, (known, unknown)
