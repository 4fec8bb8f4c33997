"""Google identity: ID tokens and IAP assertions, verified against cached signing keys.

Both are JWTs signed by Google: ID tokens with RS256 (keys at ``google_certs_url``), IAP
assertions with ES256 (keys at ``iap_certs_url``). Every check is made: signature,
algorithm, audience, issuer, expiry, issued-at/not-before (30 s leeway), and a verified
email. The key sets are cached for an hour and refetched at most once a minute for an
unknown key id, so forged key ids cannot turn requests into fetches.

PyJWT (with ``cryptography``) does the JWT work: it checks every registered claim in one
call and handles both algorithms. It is imported on first use, so a server with auth off
never loads it.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.request
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from service.errors import TemporarilyUnavailable, Unauthenticated

GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
IAP_ISSUERS = ("https://cloud.google.com/iap",)
LEEWAY_SECONDS = 30
KEYS_MAX_AGE_SECONDS = 3600
REFETCH_INTERVAL_SECONDS = 60

Fetch = Callable[[str], Any]


def fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


class KeySet:
    """A JWKS document, fetched lazily, cached, and refreshed on an unknown key id."""

    def __init__(
        self, url: str, fetch: Fetch = fetch_json, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.url = url
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at = -math.inf
        self._lock = threading.Lock()

    def key(self, kid: str) -> Any:
        """The ``jwt.PyJWK`` with id ``kid`` (blocking: may fetch the key set)."""
        if self._stale(kid):
            with self._lock:
                if self._stale(kid):  # not refreshed by another thread meanwhile
                    self._refresh()
        found = self._keys.get(kid)
        if found is None:
            raise Unauthenticated(f"The token is signed with an unknown key ({kid!r}).")
        return found

    def _stale(self, kid: str) -> bool:
        age = self._clock() - self._fetched_at
        return age > KEYS_MAX_AGE_SECONDS or (
            kid not in self._keys and age > REFETCH_INTERVAL_SECONDS
        )

    def _refresh(self) -> None:
        import jwt

        try:
            document = self._fetch(self.url)
        except (OSError, ValueError) as exc:
            raise TemporarilyUnavailable(
                f"Could not fetch the signing keys from {self.url}: {exc}"
            ) from exc
        keys: dict[str, Any] = {}
        for jwk in document.get("keys", []) if isinstance(document, dict) else []:
            try:
                keys[jwk["kid"]] = jwt.PyJWK(jwk)
            except (KeyError, TypeError, jwt.PyJWTError):
                continue  # a key we cannot use (unknown type); ignore it
        self._keys = keys
        self._fetched_at = self._clock()


@dataclass(frozen=True, slots=True)
class GoogleIdentity:
    email: str
    expires_at: float
    """The token's ``exp``, in epoch seconds: how long the verification may be cached."""


@dataclass(frozen=True)
class JwtVerifier:
    """Verifies one kind of Google-signed JWT."""

    keys: KeySet
    algorithm: str
    issuers: tuple[str, ...]
    audiences: frozenset[str]
    what: str
    """How errors name the token, e.g. "Google ID token"."""
    email_verified_claim: bool = True
    """Whether the token must say ``email_verified: true`` (a missing claim is unverified).
    IAP assertions carry no such claim: IAP signed the user in itself."""

    def verify(self, token: str, *, nonce: str | None = None) -> GoogleIdentity:
        """The verified email (blocking: may fetch keys). Unauthenticated on any failure."""
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated(f"Malformed {self.what}.") from None
        if header.get("alg") != self.algorithm:
            raise Unauthenticated(f"The {self.what} must be signed with {self.algorithm}.")
        key = self.keys.key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[self.algorithm],
                audience=list(self.audiences),
                issuer=self.issuers,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "aud", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"Invalid {self.what}: {_reason(exc)}") from None
        email = claims.get("email")
        verified = claims.get("email_verified") in (True, "true")
        if not isinstance(email, str) or (self.email_verified_claim and not verified):
            raise Unauthenticated(f"The {self.what} carries no verified email.")
        if nonce is not None and claims.get("nonce") != nonce:
            raise Unauthenticated(f"The {self.what} was not issued for this sign-in.")
        return GoogleIdentity(email.lower(), float(claims["exp"]))


def google_id_tokens(keys: KeySet, audiences: Collection[str]) -> JwtVerifier:
    return JwtVerifier(keys, "RS256", GOOGLE_ISSUERS, frozenset(audiences), "Google ID token")


def iap_assertions(keys: KeySet, audience: str) -> JwtVerifier:
    return JwtVerifier(keys, "ES256", IAP_ISSUERS, frozenset([audience]), "IAP assertion", False)


def _reason(exc: Exception) -> str:
    import jwt

    reasons: list[tuple[type[Exception], str]] = [
        (jwt.ExpiredSignatureError, "it has expired"),
        (jwt.ImmatureSignatureError, "it is not valid yet"),
        (jwt.InvalidAudienceError, "its audience is not accepted by this server"),
        (jwt.InvalidIssuerError, "it was not issued by Google"),
        (jwt.InvalidSignatureError, "its signature does not verify"),
        (jwt.MissingRequiredClaimError, str(exc)),
    ]
    return next((text for kind, text in reasons if isinstance(exc, kind)), str(exc))
