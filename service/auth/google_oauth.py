"""'Sign in with Google' for the browser: OAuth 2.0 authorization code flow with PKCE.

Only used when the team provides an OAuth client (``STRATUS_OAUTH_CLIENT_ID`` and, from
Secret Manager, ``STRATUS_OAUTH_CLIENT_SECRET``); docs/auth.md says how to create one.
The ID token Google returns is verified like any other (audience: the client id), plus
the nonce of this sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service.config import Settings
from service.errors import TemporarilyUnavailable, Unauthenticated

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"

PostForm = Callable[[str, dict[str, str]], dict[str, Any]]


def post_form(url: str, form: dict[str, str]) -> dict[str, Any]:
    """POST a form, return the JSON answer (error answers included)."""
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            error: dict[str, Any] = json.load(exc)
            return error
        except ValueError:
            return {"error": f"HTTP {exc.code}"}
    except OSError as exc:
        raise TemporarilyUnavailable(f"Could not reach Google's token endpoint: {exc}") from exc
    return answer


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class GoogleOAuth:
    client_id: str
    client_secret: str
    authorize_url: str = AUTHORIZE_URL
    token_url: str = TOKEN_URL
    post: PostForm = field(default=post_form, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> GoogleOAuth | None:
        if not (settings.oauth_client_id and settings.oauth_client_secret):
            return None
        return cls(settings.oauth_client_id, settings.oauth_client_secret.get_secret_value())

    def authorization(self, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
        """Where to send the browser: Google's consent page for this client."""
        query = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "openid email",
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge(verifier),
            "code_challenge_method": "S256",
            "prompt": "select_account",
        }
        return f"{self.authorize_url}?{urllib.parse.urlencode(query)}"

    def exchange(self, code: str, redirect_uri: str, verifier: str) -> str:
        """Trade the authorization code for the user's ID token (blocking)."""
        answer = self.post(
            self.token_url,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "code_verifier": verifier,
            },
        )
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            reason = answer.get("error_description") or answer.get("error") or "no ID token"
            raise Unauthenticated(f"Google did not complete the sign-in: {reason}")
        return id_token
