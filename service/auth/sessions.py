"""Browser sessions: a signed cookie, and the CSRF rule for requests that carry it.

The session cookie is ``__Host-stratus-session``: HttpOnly (scripts cannot read it),
Secure, ``SameSite=Lax`` and host-only with ``Path=/`` (the ``__Host-`` prefix makes the
browser enforce the last two). Its value is a session id signed and timestamped by
itsdangerous under ``STRATUS_SESSION_SECRET``; the session itself (whose it is, how they
signed in, the access token it was opened with) is a database row, so signing out ends it
on every instance. The pending state of a Google sign-in is signed under the same key with
another salt, so neither value can stand in for the other.

CSRF: a state-changing request (anything but GET/HEAD/OPTIONS) authenticated by the
cookie must come from this origin: its ``Origin`` header must equal the server's origin,
or, when a browser sends none, ``Sec-Fetch-Site`` must be ``same-origin``. ``SameSite=Lax``
already keeps the cookie off cross-site POSTs; the origin check also covers sibling
subdomains and old browsers. API clients use Authorization headers, never the cookie, so
they are unaffected.
"""

from __future__ import annotations

from collections.abc import Mapping

from itsdangerous import BadData, URLSafeTimedSerializer

COOKIE = "__Host-stratus-session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_SALT = "stratus.session"
OAUTH_STATE_SALT = "stratus.oauth-state"


class SessionCodec:
    """Signs session ids and OAuth state, each for its own purpose (salt)."""

    def __init__(self, key: bytes, max_age_seconds: int) -> None:
        self.max_age = max_age_seconds
        self._sessions = URLSafeTimedSerializer(key, salt=SESSION_SALT)
        self._state = URLSafeTimedSerializer(key, salt=OAUTH_STATE_SALT)

    def session_cookie(self, session_id: str) -> str:
        return self._sessions.dumps(session_id)

    def session_id(self, value: str) -> str | None:
        """The session id a cookie carries, if its signature holds and it is recent enough."""
        try:
            found = self._sessions.loads(value, max_age=self.max_age)
        except BadData:
            return None
        return found if isinstance(found, str) else None

    def state_cookie(self, state: Mapping[str, str]) -> str:
        return self._state.dumps(dict(state))

    def state(self, value: str, max_age: int) -> dict[str, str] | None:
        """A pending sign-in's state: only string fields, or None if not valid."""
        try:
            found = self._state.loads(value, max_age=max_age)
        except BadData:
            return None
        if not isinstance(found, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in found.items()
        ):
            return None
        return found


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
