"""The two mlflow plugins: a request header provider and a request auth provider.

* ``StratusHeaderProvider`` (entry point ``mlflow.request_header_provider``) needs no
  setup: when the tracking URI is ``http(s)://``, Google credentials are available and no
  other credentials are configured (``MLFLOW_TRACKING_TOKEN``, ``MLFLOW_TRACKING_USERNAME``,
  ``MLFLOW_TRACKING_AUTH``), it adds ``Authorization: Bearer <Google ID token>`` to
  mlflow's requests. mlflow gives
  header providers no URL, so the token goes to whatever server mlflow calls in that
  process; its audience is the tracking URI.
* ``StratusAuthProvider`` (``mlflow.request_auth_provider``, selected with
  ``MLFLOW_TRACKING_AUTH=stratus``) sees each request's URL and signs it for exactly that
  origin: the stricter choice when one process talks to several servers.

``STRATUS_AUTH_AUDIENCE`` overrides the audience (e.g. a custom domain in front of the
service); ``STRATUS_AUTH_PLUGIN=off`` disables the header provider.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from mlflow.tracking.request_auth.abstract_request_auth_provider import RequestAuthProvider
from mlflow.tracking.request_header.abstract_request_header_provider import (
    RequestHeaderProvider,
)
from requests.auth import AuthBase
from requests.models import PreparedRequest

from stratus_auth.credentials import IdTokens

#: One cache per process, shared by both providers.
TOKENS = IdTokens()

#: Other ways the user may have told mlflow how to authenticate; any of them wins.
EXPLICIT_CREDENTIALS = ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_AUTH")


def origin(url: str) -> str:
    """``scheme://host[:port]``: the audience Cloud Run expects for a service URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def audience_for(url: str) -> str:
    return os.environ.get("STRATUS_AUTH_AUDIENCE") or origin(url)


class GoogleIdTokenAuth(AuthBase):
    """requests auth: a fresh ID token for the origin of each request."""

    def __init__(self, tokens: IdTokens = TOKENS) -> None:
        self._tokens = tokens

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        if "Authorization" not in request.headers:
            token = self._tokens.token(audience_for(str(request.url)))
            request.headers["Authorization"] = f"Bearer {token}"
        return request


class StratusAuthProvider(RequestAuthProvider):
    def get_name(self) -> str:
        return "stratus"

    def get_auth(self) -> GoogleIdTokenAuth:
        return GoogleIdTokenAuth()


class StratusHeaderProvider(RequestHeaderProvider):
    def in_context(self) -> bool:
        if os.environ.get("STRATUS_AUTH_PLUGIN", "").lower() in ("0", "off", "false"):
            return False
        if any(os.environ.get(name) for name in EXPLICIT_CREDENTIALS):
            return False
        return _tracking_uri().startswith(("http://", "https://")) and TOKENS.available()

    def request_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKENS.token(audience_for(_tracking_uri()))}"}


def _tracking_uri() -> str:
    import mlflow

    return mlflow.get_tracking_uri()
