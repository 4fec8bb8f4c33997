"""Google ID tokens from Application Default Credentials, refreshed before they expire.

Which credentials ADC finds decides how a token is made and what its audience is:

* **A service account** (a key file in ``GOOGLE_APPLICATION_CREDENTIALS``, or the metadata
  server on GCE, Cloud Run, GKE, Vertex AI): Google signs an ID token for any audience we
  ask for; we ask for the Stratus URL, as Cloud Run does.
* **Service-account impersonation** (``gcloud auth application-default login
  --impersonate-service-account=...``): the same, minted through the IAM Credentials API.
* **A user** (``gcloud auth application-default login``): user credentials cannot mint a
  token for an arbitrary audience. But refreshing them returns the user's own ID token,
  whose audience is the OAuth client gcloud used. A Stratus server accepts that audience
  (``STRATUS_AUTH_AUDIENCES``, whose default includes gcloud's clients) and then checks
  that the email is on the team.

A token is reused until five minutes before its expiry, so a run that lasts days never
sends an expired one. Tokens are kept per audience and per ``GOOGLE_APPLICATION_CREDENTIALS``
value, so switching credentials in a process takes effect at once.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

REFRESH_MARGIN_SECONDS = 300

#: Mints ``(token, expiry_epoch_seconds)`` for an audience.
Mint = Callable[[str], tuple[str, float]]


class CredentialsError(RuntimeError):
    """No Google credentials that can produce an ID token."""


class IdTokens:
    """A thread-safe cache of ID tokens, one per audience, minted on demand."""

    def __init__(
        self,
        mint: Mint | None = None,
        clock: Callable[[], float] = time.time,
        has_credentials: Callable[[], bool] | None = None,
    ):
        self._mint = mint or AdcMint()
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str | None], tuple[str, float]] = {}
        self._has_credentials = has_credentials or _adc_available
        self._available: dict[str | None, bool] = {}

    def available(self) -> bool:
        """Whether ADC finds any credentials (checked once per credentials file setting)."""
        key = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        if key not in self._available:
            self._available[key] = self._has_credentials()
        return self._available[key]

    def token(self, audience: str) -> str:
        key = (audience, os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"))
        with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and cached[1] - self._clock() > REFRESH_MARGIN_SECONDS:
                return cached[0]
            token, expiry = self._mint(audience)
            self._tokens[key] = (token, expiry)
            return token


class AdcMint:
    """Mints ID tokens with google-auth from Application Default Credentials."""

    def __init__(self) -> None:
        self._credentials: dict[tuple[str, str | None], Any] = {}

    def __call__(self, audience: str) -> tuple[str, float]:
        import google.auth.transport.requests

        request = google.auth.transport.requests.Request()
        key = (audience, os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"))
        credentials = self._credentials.get(key)
        if credentials is None:
            credentials = self._credentials[key] = _id_token_credentials(audience, request)
        credentials.refresh(request)
        token = _token_of(credentials)
        return token, _expiry(token)


def _adc_available() -> bool:
    import google.auth
    import google.auth.exceptions

    try:
        google.auth.default()
    except google.auth.exceptions.DefaultCredentialsError:
        return False
    return True


def _id_token_credentials(audience: str, request: Any) -> Any:
    """Credentials whose ``refresh`` yields an ID token (``.token`` or ``.id_token``)."""
    import google.auth
    import google.auth.exceptions
    from google.auth import impersonated_credentials
    from google.oauth2 import credentials as user_credentials
    from google.oauth2 import id_token

    try:
        found, _project = google.auth.default()
    except google.auth.exceptions.DefaultCredentialsError as exc:
        raise CredentialsError(
            "No Google credentials: run `gcloud auth application-default login`, or set "
            "GOOGLE_APPLICATION_CREDENTIALS, or use a Stratus access token "
            f"(MLFLOW_TRACKING_TOKEN). ({exc})"
        ) from exc
    if isinstance(found, user_credentials.Credentials):
        return found  # refresh() also returns the user's ID token (audience: the client)
    if isinstance(found, impersonated_credentials.Credentials):
        return impersonated_credentials.IDTokenCredentials(
            found, target_audience=audience, include_email=True
        )
    try:
        return id_token.fetch_id_token_credentials(audience, request=request)
    except google.auth.exceptions.DefaultCredentialsError as exc:
        raise CredentialsError(
            f"These Google credentials ({type(found).__name__}) cannot mint ID tokens; use a "
            "service account, impersonation, user credentials, or a Stratus access token."
        ) from exc


def _token_of(credentials: Any) -> str:
    token = getattr(credentials, "id_token", None) or getattr(credentials, "token", None)
    if not token or token.count(".") != 2:
        raise CredentialsError(
            "Google returned no ID token: run `gcloud auth application-default login` "
            "again (it grants the openid scope)."
        )
    return token


def _expiry(token: str) -> float:
    """The ``exp`` claim, read without verifying (the server verifies)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["exp"])
