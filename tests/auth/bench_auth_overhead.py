"""What auth costs per request once its caches are warm (not a test; run it by hand).

    .venv/bin/python -m tests.auth.bench_auth_overhead

It builds the real app with auth on (SQLite in a temporary folder, a local fake Google),
creates a run and credentials, then drives the auth middleware in front of a handler that
does nothing, for each kind of credential and a few representative routes. The number
reported is the middleware's time per request minus the bare handler's: route matching,
authentication, membership, grants, locating the resource and the permission check. The
first request of each kind (database and key-set lookups, the password KDF) is excluded:
that is the cold path, paid once per ``STRATUS_AUTH_CACHE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import base64
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from starlette.testclient import TestClient

from service.app import create_app
from service.auth import passwords, tokens
from service.config import Settings
from service.http.guard.middleware import AuthMiddleware
from service.http.guard.routing import RouteTable
from service.http.guard.rules import RULES
from service.store.entities.auth import ResourceKind
from tests.auth.fake_google import FakeGoogle

REQUESTS = 5_000
EXPERIMENT = ResourceKind.EXPERIMENT
#: A same-origin browser request, so the session cookie passes the CSRF check on POST.
EXTRA_HEADERS = {
    "host": "testserver",
    "origin": "https://testserver",
    "content-type": "application/json",
}
ROUNDS = 5


async def _noop(scope: dict, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def _scope(app: Any, method: str, path: str, query: str, headers: dict[str, str]) -> dict:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "scheme": "https",
        "app": app,
    }


async def _per_request(app_under_test: Any, scope: dict, body: bytes) -> float:
    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    statuses: list[int] = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app_under_test(dict(scope), receive, send)  # warm: the cold path is not measured
    assert statuses == [200], f"{scope['method']} {scope['path']} was refused: {statuses}"
    best = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(REQUESTS):
            await app_under_test(dict(scope), receive, send)
        best.append((time.perf_counter() - start) / REQUESTS)
    return statistics.median(best)


def main() -> None:
    google = FakeGoogle().start()
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(
            auth_enabled=True,
            members=("alice@example.com", "ci"),
            data_dir=Path(data),
            auth_audiences=("https://stratus.test",),
            google_certs_url=f"{google.url}/certs",
            session_secret="s" * 32,
        )
        app = create_app(settings)
        with TestClient(app):
            access = app.state.auth
            store = app.state.store
            experiment = store.experiments.create("bench")
            run = store.runs.create(
                experiment_id=experiment, user_id="alice", start_time=0, run_name="r", tags=[]
            )
            run_id = run.info.run_id
            access.store.create_user("ci", passwords.hash_password("ci-password-1"))
            for user in ("alice@example.com", "ci"):
                access.store.put_grant(EXPERIMENT, str(experiment), user, "EDIT")
            pat = tokens.issue(access.store, "alice@example.com", "bench").secret
            session = asyncio.run(access.open_session("alice@example.com", "google"))
            credentials = {
                "access token": {"Authorization": f"Bearer {pat}"},
                "Google ID token": {
                    "Authorization": "Bearer "
                    + google.id_token("alice@example.com", "https://stratus.test")
                },
                "basic (cached KDF)": {
                    "Authorization": "Basic " + base64.b64encode(b"ci:ci-password-1").decode()
                },
                "session cookie": {"Cookie": f"__Host-stratus-session={session}"},
            }
            batch = orjson.dumps(
                {"run_id": run_id, "metrics": [{"key": "m", "value": 1.0, "timestamp": 0}] * 100}
            )
            routes = [
                ("GET", "/api/2.0/mlflow/runs/get", f"run_id={run_id}", b""),
                ("POST", "/api/2.0/mlflow/runs/log-batch", "", batch),
                ("GET", "/api/2.0/mlflow/experiments/search", "max_results=10", b""),
            ]
            guarded = AuthMiddleware(_noop, RouteTable(app.routes, RULES))

            async def run() -> None:
                print(f"{'credential':<22}{'route':<40}{'auth cost per request':>24}")
                for name, headers in credentials.items():
                    for method, path, query, body in routes:
                        scope = _scope(app, method, path, query, {**headers, **EXTRA_HEADERS})
                        bare = await _per_request(_noop, scope, body)
                        with_auth = await _per_request(guarded, scope, body)
                        cost = (with_auth - bare) * 1e3
                        print(f"{name:<22}{method + ' ' + path[16:]:<40}{cost:>20.3f} ms")

            asyncio.run(run())
    google.stop()


if __name__ == "__main__":
    main()
