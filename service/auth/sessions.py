"""Browser sessions: a signed cookie, and the CSRF rule for requests that carry it.

The session cookie is ``__Host-stratus-session``: HttpOnly (scripts cannot read it),
Secure, ``SameSite=Lax`` and host-only with ``Path=/`` (the ``__Host-`` prefix makes the
browser enforce the last two). Its value is ``base64url(payload).base64url(HMAC-SHA256)``
under ``STRATUS_SESSION_SECRET``; the payload names the user, how they signed in, when the
session ends and, for a session opened with an access token, that token (so revoking the
token ends the session).

CSRF: a state-changing request (anything but GET/HEAD/OPTIONS) authenticated by the
cookie must come from this origin: its ``Origin`` header must equal the server's origin,
or, when a browser sends none, ``Sec-Fetch-Site`` must be ``same-origin``. ``SameSite=Lax``
already keeps the cookie off cross-site POSTs; the origin check also covers sibling
subdomains and old browsers. API clients use Authorization headers, never the cookie, so
they are unaffected.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

COOKIE = "__Host-stratus-session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Session:
    username: str
    via: str
    expires_at: int
    token_id: str | None = None


class SessionCodec:
    """Issues and reads signed session values (and short-lived signed state, for OAuth)."""

    def __init__(
        self, key: bytes, max_age_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._key = hashlib.sha256(b"stratus-session\x00" + key).digest()
        self.max_age = max_age_seconds
        self._clock = clock

    def issue(self, username: str, via: str, token_id: str | None = None) -> str:
        payload = {"u": username, "v": via, "e": int(self._clock()) + self.max_age}
        if token_id:
            payload["t"] = token_id
        return self.sign(payload)

    def read(self, value: str) -> Session | None:
        payload = self.unsign(value)
        if payload is None or not isinstance(payload.get("u"), str):
            return None
        return Session(payload["u"], str(payload.get("v", "")), payload["e"], payload.get("t"))

    def sign(self, payload: dict[str, Any], max_age: int | None = None) -> str:
        """A tamper-proof encoding of ``payload``, valid for ``max_age`` seconds at most."""
        if max_age is not None:
            payload = {**payload, "e": int(self._clock()) + max_age}
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{_b64(self._mac(body))}"

    def unsign(self, value: str) -> dict[str, Any] | None:
        """The payload if the signature holds and it has not expired, else None."""
        body, _, signature = value.partition(".")
        try:
            valid = hmac.compare_digest(_unb64(signature), self._mac(body))
            payload = json.loads(_unb64(body)) if valid else None
        except ValueError:
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("e"), int):
            return None
        return payload if payload["e"] > self._clock() else None

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode(), hashlib.sha256).digest()


def set_cookie(name: str, value: str, max_age: int) -> str:
    """A ``Set-Cookie`` value with every attribute a session cookie needs."""
    return f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Lax"


def clear_cookie(name: str) -> str:
    return set_cookie(name, "", 0)


def is_same_origin(method: str, own_origin: str, headers: Mapping[str, str]) -> bool:
    """The CSRF rule above; ``headers`` are lower-case names."""
    if method in SAFE_METHODS:
        return True
    origin = headers.get("origin")
    if origin is not None:
        return origin == own_origin
    return headers.get("sec-fetch-site") == "same-origin"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
