"""Personal access tokens: random secrets, shown once, stored only as a SHA-256 hash.

A token is ``stratus_pat_`` followed by 43 URL-safe characters (256 random bits), so a
fast hash is enough to store it: there is nothing to brute-force. Verified tokens are
cached by hash for ``auth_cache_seconds`` (never past their expiry), so the warm path is a
hash and a dict lookup; a revocation through the API clears the cache at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from service.auth.cache import ExpiringCache
from service.errors import InvalidParameterValue, ResourceDoesNotExist, Unauthenticated
from service.store.auth import AuthStore
from service.store.clock import now_ms
from service.store.entities.auth import TokenRecord

PREFIX = "stratus_pat_"
DEFAULT_DAYS = 90
MAX_DAYS = 366
DAY_MS = 24 * 3600 * 1000


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_access_token(credential: str) -> bool:
    return credential.startswith(PREFIX)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    secret: str
    """The token itself: returned once, never stored."""
    record: TokenRecord


def issue(
    store: AuthStore,
    username: str,
    name: str,
    days: int = DEFAULT_DAYS,
    parent_token_id: str | None = None,
) -> IssuedToken:
    """Create a token for ``username`` that expires after ``days``.

    A token made by a request that was itself authenticated with a token names that one as
    its parent: it expires no later, and revoking the parent revokes it (a stolen token
    cannot mint a successor that outlives it)."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidParameterValue(
            f"Invalid token lifetime {days} days: it must be between 1 and {MAX_DAYS}."
        )
    if len(name) > 256:
        raise InvalidParameterValue("A token name is at most 256 characters.")
    secret = PREFIX + secrets.token_urlsafe(32)
    record = store.create_token(
        token_id=secrets.token_hex(8),
        token_hash=token_hash(secret),
        username=username,
        name=name,
        expiry_time=now_ms() + days * DAY_MS,
        parent_token_id=parent_token_id,
    )
    return IssuedToken(secret, record)


@dataclass(frozen=True, slots=True)
class TokenIdentity:
    username: str
    token_id: str


class TokenVerifier:
    def __init__(self, store: AuthStore, cache_seconds: float) -> None:
        self._store = store
        self._ttl = cache_seconds
        self._cache: ExpiringCache[TokenIdentity] = ExpiringCache()

    def cached(self, secret: str) -> TokenIdentity | None:
        return self._cache.get(token_hash(secret))

    def verify(self, secret: str) -> TokenIdentity:
        """The token's owner, from the database (blocking); Unauthenticated if not valid."""
        digest = token_hash(secret)
        record = self._store.token_by_hash(digest)
        now = now_ms()
        if record is None:
            raise Unauthenticated("Unknown access token.")
        if record.revoked_time is not None:
            raise Unauthenticated("This access token has been revoked.")
        if now >= record.expiry_time:
            raise Unauthenticated("This access token has expired.")
        identity = TokenIdentity(record.username, record.token_id)
        self._cache.put(digest, identity, min(self._ttl, (record.expiry_time - now) / 1000))
        return identity

    def is_active(self, token_id: str) -> bool:
        """For sessions signed in with a token: is it still valid? (blocking)."""
        try:
            return self._store.get_token(token_id).is_active(now_ms())
        except ResourceDoesNotExist:
            return False

    def forget(self, token_id: str) -> None:
        self._cache.discard_where(lambda identity: identity.token_id == token_id)

    def forget_user(self, username: str) -> None:
        self._cache.discard_where(lambda identity: identity.username == username)
