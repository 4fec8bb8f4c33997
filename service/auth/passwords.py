"""Passwords for HTTP basic auth: scrypt in the database, a keyed fast hash in memory.

The KDF (scrypt, n=2**14, r=8: about 16 MiB and tens of milliseconds) runs only on the
first request with a given username and password; the verified pair is then remembered,
keyed by a BLAKE2b MAC of the credential under a per-process random key, for
``auth_cache_seconds``. At most two KDF computations run at once, so a burst of logins
cannot exhaust a small instance's memory. Failures are never cached; an unknown username
(or one without a password) pays for a KDF run against a dummy hash, so timing does not
tell which usernames exist. service/auth/throttle.py bounds the work a flood can cause.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import threading

from service.auth.cache import ExpiringCache
from service.errors import InvalidParameterValue
from service.store.auth import AuthStore

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_LENGTH = 8
_KDF_SLOTS = threading.BoundedSemaphore(2)


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise InvalidParameterValue(f"A password needs at least {MIN_LENGTH} characters.")
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


class PasswordVerifier:
    def __init__(self, store: AuthStore, cache_seconds: float) -> None:
        self._store = store
        self._ttl = cache_seconds
        self._key = secrets.token_bytes(32)
        self._cache: ExpiringCache[str] = ExpiringCache()

    def cached(self, username: str, password: str) -> bool:
        return self._cache.get(self._mac(username, password)) == username

    def verify(self, username: str, password: str) -> bool:
        """Check against the stored hash (blocking; pays the KDF); remembers a success."""
        encoded = self._store.password_hash(username)
        if encoded is None:
            verify_password(password, _dummy_hash())  # the same cost as a known user
            return False
        if not verify_password(password, encoded):
            return False
        self._cache.put(self._mac(username, password), username, self._ttl)
        return True

    def forget(self, username: str) -> None:
        self._cache.discard_where(lambda cached: cached == username)

    def _mac(self, username: str, password: str) -> bytes:
        credential = username.encode() + b"\x00" + password.encode()
        return hashlib.blake2b(credential, key=self._key, digest_size=32).digest()


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    with _KDF_SLOTS:
        return hashlib.scrypt(
            password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=32
        )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
