"""HTTP to tracking servers, for the server source and the remote target.

Authentication is the mlflow client's: a bearer token, or basic auth. Failures become
:class:`ServerError` carrying the server's MLflow ``error_code``; transient ones (429,
5xx that MLflow itself retries, dropped connections) are retried with backoff for
requests that are safe to repeat.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from service.config import ClientCredentials

RETRY_STATUSES = frozenset({429, 502, 503, 504})
ATTEMPTS = 6
TIMEOUT = httpx.Timeout(120.0, connect=10.0)


class ServerError(Exception):
    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message} (HTTP {status})")
        self.status = status
        self.error_code = error_code


def open_client(
    base_url: str, credentials: ClientCredentials, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    headers = {"User-Agent": "stratus-import"}
    auth: httpx.Auth | None = None
    if credentials.token:
        headers["Authorization"] = f"Bearer {credentials.token}"
    elif credentials.username and credentials.password is not None:
        auth = httpx.BasicAuth(credentials.username, credentials.password)
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        headers=headers,
        auth=auth,
        timeout=TIMEOUT,
        verify=not credentials.insecure_tls,
        transport=transport,
    )


def call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    """A JSON request, retried while the failure is transient; the decoded JSON answer."""
    for attempt in range(ATTEMPTS):
        try:
            response = client.request(method, path, **kwargs)
        except httpx.TransportError:
            if attempt == ATTEMPTS - 1:
                raise
        else:
            if response.status_code not in RETRY_STATUSES or attempt == ATTEMPTS - 1:
                check(response)
                return response.json() if response.content else {}
        time.sleep(min(2**attempt, 30))
    raise AssertionError("unreachable")


def check(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):  # not an MLflow error: an HTML page from a proxy, say
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        body = {"message": f"{response.reason_phrase or 'error'} (a {kind} answer)"}
    raise ServerError(
        response.status_code,
        str(body.get("error_code") or f"HTTP_{response.status_code}"),
        str(body.get("message") or response.reason_phrase),
    )
