"""The pieces of service/auth on their own: no server, no database."""

from __future__ import annotations

import asyncio
from itertools import pairwise

import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from service.auth.cache import ExpiringCache
from service.auth.identity import KeySet, google_id_tokens
from service.auth.passwords import hash_password, verify_password
from service.auth.permissions import Grants, Permission, Team
from service.auth.sessions import SessionCodec, is_same_origin
from service.auth.throttle import FailureThrottle, KdfGate
from service.errors import (
    InvalidParameterValue,
    TemporarilyUnavailable,
    TooManyRequests,
    Unauthenticated,
)
from service.http.guard.routing import RouteTable
from service.http.guard.rules import MEMBER, PUBLIC, RULES
from service.store.auth import Visible
from service.store.entities.auth import Grant, ResourceKind
from tests.auth.fake_google import FakeGoogle

EXPERIMENT, MODEL = ResourceKind.EXPERIMENT, ResourceKind.REGISTERED_MODEL


def grant(resource: str, principal: str, permission: str, kind=EXPERIMENT) -> Grant:
    return Grant(kind, resource, principal, permission)


def test_permission_order_and_parsing() -> None:
    order = [Permission.NO_PERMISSIONS, Permission.READ, Permission.EDIT, Permission.MANAGE]
    for lower, higher in pairwise(order):
        assert higher.allows(lower) and not lower.allows(higher)
    assert Permission.parse(" edit ") is Permission.EDIT
    with pytest.raises(InvalidParameterValue, match="NO_PERMISSIONS, READ, EDIT, MANAGE"):
        Permission.parse("USE")


def test_own_grant_beats_groups_and_the_best_group_wins() -> None:
    rows = [
        grant("1", "group:a", "MANAGE"),
        grant("1", "alice", "READ"),  # her own grant wins, even if lower
        grant("2", "group:a", "READ"),
        grant("2", "group:b", "EDIT"),
        grant("3", "group:a", "NO_PERMISSIONS"),
        grant("m", "alice", "EDIT", MODEL),
    ]
    grants = Grants.resolve("alice", rows, Permission.READ)
    assert grants.on(EXPERIMENT, "1") is Permission.READ
    assert grants.on(EXPERIMENT, "2") is Permission.EDIT
    assert grants.on(EXPERIMENT, "3") is Permission.NO_PERMISSIONS
    assert grants.on(EXPERIMENT, "4") is Permission.READ  # the default
    assert grants.on(MODEL, "m") is Permission.EDIT


def test_visibility_for_search() -> None:
    rows = [grant("3", "alice", "NO_PERMISSIONS"), grant("5", "alice", "READ")]
    assert Grants.resolve("alice", rows, Permission.READ).visible(EXPERIMENT) == Visible(
        frozenset({3}), exclude=True
    )
    assert Grants.resolve("alice", rows, Permission.NO_PERMISSIONS).visible(EXPERIMENT) == Visible(
        frozenset({5}), exclude=False
    )
    assert Grants.resolve("alice", [], Permission.READ).visible(MODEL) is None


def test_team_membership() -> None:
    team = Team.of(
        admins=["root@x.com"],
        members=["a@x.com", "domain:corp.example"],
        groups={"vision": ["v@y.com"]},
    )
    assert team.admits("root@x.com", registered=False)
    assert team.admits("a@x.com", registered=False)
    assert team.admits("anyone@corp.example", registered=False)
    assert not team.admits("anyone@notcorp.example", registered=False)
    assert team.admits("v@y.com", registered=False) and team.groups_of("v@y.com") == {"vision"}
    assert team.admits("ci-bot", registered=True)
    assert not team.admits("stranger@x.com", registered=False)


def test_sessions_and_oauth_state_are_signed_for_their_own_purpose() -> None:
    codec = SessionCodec(b"key", max_age_seconds=60)
    value = codec.session_cookie("session-1")
    assert codec.session_id(value) == "session-1"
    assert SessionCodec(b"other-key", max_age_seconds=60).session_id(value) is None
    assert codec.session_id(value[:-2] + "xx") is None and codec.session_id("garbage") is None
    state = codec.state_cookie({"s": "state", "n": "nonce", "v": "verifier", "next": "/"})
    assert codec.state(state, max_age=60) == {
        "s": "state",
        "n": "nonce",
        "v": "verifier",
        "next": "/",
    }
    # Neither can stand in for the other (separate salts).
    assert codec.session_id(state) is None and codec.state(value, max_age=60) is None
    assert SessionCodec(b"key", max_age_seconds=-1).session_id(value) is None  # expired


def test_csrf_rule() -> None:
    own = "https://stratus.example"
    assert is_same_origin("GET", own, {})
    assert is_same_origin("POST", own, {"origin": own})
    assert not is_same_origin("POST", own, {"origin": "https://evil.example"})
    assert not is_same_origin("DELETE", own, {})
    assert is_same_origin("PATCH", own, {"sec-fetch-site": "same-origin"})
    assert not is_same_origin("PATCH", own, {"sec-fetch-site": "same-site"})


def test_passwords() -> None:
    encoded = hash_password("correct horse")
    assert encoded.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", encoded)
    assert not verify_password("correct hors", encoded)
    assert not verify_password("x", "bcrypt$whatever")
    with pytest.raises(InvalidParameterValue):
        hash_password("short")


def test_expiring_cache() -> None:
    now = [0.0]
    cache: ExpiringCache[str] = ExpiringCache(max_entries=2, clock=lambda: now[0])
    cache.put("a", "A", ttl=10)
    cache.put("b", "B", ttl=1)
    assert cache.get("a") == "A"
    now[0] = 2
    assert cache.get("b") is None
    cache.put("c", "C", ttl=10)
    cache.put("d", "D", ttl=10)  # full: the oldest entry goes
    assert cache.get("a") is None and cache.get("d") == "D"
    cache.put("e", "E", ttl=0)
    assert cache.get("e") is None


def test_key_set_refetches_rarely() -> None:
    google = FakeGoogle()
    fetches: list[str] = []
    now = [0.0]

    def fetch(url: str) -> dict:
        fetches.append(url)
        return google.jwks()

    keys = KeySet("https://keys.example", fetch=fetch, clock=lambda: now[0])
    assert keys.key(google.kid) is not None
    for _ in range(5):
        with pytest.raises(Unauthenticated, match="unknown key"):
            keys.key("forged-kid")
    assert len(fetches) == 1  # unknown ids do not turn into fetches
    now[0] += 61
    with pytest.raises(Unauthenticated):
        keys.key("forged-kid")
    assert len(fetches) == 2

    def broken(_url: str) -> dict:
        raise OSError("network down")

    with pytest.raises(TemporarilyUnavailable):
        KeySet("https://keys.example", fetch=broken).key(google.kid)


def test_id_token_verification_in_process() -> None:
    google = FakeGoogle()
    verifier = google_id_tokens(KeySet("x", fetch=lambda _u: google.jwks()), ["aud-1"])
    identity = verifier.verify(google.id_token("Alice@Example.com", "aud-1"))
    assert identity.email == "alice@example.com"
    with pytest.raises(Unauthenticated, match="audience"):
        verifier.verify(google.id_token("a@x.com", "own"))
    with pytest.raises(Unauthenticated, match="sign-in"):
        verifier.verify(google.id_token("a@x.com", "aud-1", nonce="n1"), nonce="n2")


async def _ok(_request):
    return PlainTextResponse("ok")


def test_route_table_matches_like_the_router() -> None:
    routes = [
        Route("/health", _ok, methods=["GET"]),
        Mount(
            "/api/2.0/mlflow",
            routes=[
                Route("/logged-models/{model_id}", _ok, methods=["GET"]),
                Route("/logged-models/search", _ok, methods=["GET", "POST"]),
            ],
        ),
    ]
    rules = {
        ("GET", "/health"): PUBLIC,
        ("GET", "/api/2.0/mlflow/logged-models/{model_id}"): MEMBER,
        ("GET", "/api/2.0/mlflow/logged-models/search"): PUBLIC,
        ("POST", "/api/2.0/mlflow/logged-models/search"): PUBLIC,
    }
    table = RouteTable(routes, rules)
    assert table.unruled == []
    assert table.match("HEAD", "/health").rule is PUBLIC
    # The parameterised route comes first, so the router would pick it: so do we.
    shadowed = table.match("GET", "/api/2.0/mlflow/logged-models/search")
    assert shadowed.rule is MEMBER and shadowed.path_params == {"model_id": "search"}
    assert table.match("POST", "/api/2.0/mlflow/logged-models/search").rule is PUBLIC
    assert table.match("DELETE", "/api/2.0/mlflow/logged-models/1") is None


def test_rules_use_canonical_paths() -> None:
    assert all(not path.startswith("/ajax-api/") for _method, path in RULES)
    assert all(":" not in path for _method, path in RULES)


def test_the_failure_throttle_lasts_until_the_guessing_stops() -> None:
    now = [0.0]
    throttle = FailureThrottle(per_username=2, per_client=10, window=60, clock=lambda: now[0])
    check = throttle.check

    throttle.failed("u", "c")
    check("u", "c")
    throttle.failed("u", "c")
    for _ in range(3):  # each refused attempt restarts the minute
        with pytest.raises(TooManyRequests) as refused:
            check("u", "c")
        assert refused.value.retry_after_seconds == 60
        now[0] += 59
    check("other", "c")  # another username from the same client: under its own limit
    now[0] += 2
    check("u", "c")  # a quiet minute: allowed again


def test_the_kdf_gate_sheds_past_its_queue() -> None:
    async def scenario() -> list[str]:
        gate = KdfGate(concurrency=1, queue=1)
        release = asyncio.Event()
        outcomes: list[str] = []

        async def attempt() -> None:
            try:
                async with gate.slot():
                    await release.wait()
                outcomes.append("ran")
            except TooManyRequests:
                outcomes.append("shed")

        tasks = [asyncio.create_task(attempt()) for _ in range(4)]
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(*tasks)
        return outcomes

    assert sorted(asyncio.run(scenario())) == ["ran", "ran", "shed", "shed"]
