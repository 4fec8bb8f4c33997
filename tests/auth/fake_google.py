"""A stand-in for Google's identity endpoints, on loopback, for the auth tests.

It serves what the server and the client plugin talk to: the JWKS of the ID-token keys
(``/certs``) and of IAP's keys (``/iap-certs``), and a token endpoint (``/token``) that
answers the three grants google-auth and the sign-in flow use: a service account's JWT
bearer assertion (an ID token for ``target_audience``), a user's refresh token (an access
token plus an ID token whose audience is the OAuth client), and an authorization code
(registered in ``codes`` with the PKCE challenge it must match). Every token is signed
with locally generated keys; nothing leaves the machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

GOOGLE_ISSUER = "https://accounts.google.com"
IAP_ISSUER = "https://cloud.google.com/iap"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class FakeGoogle:
    """Keys, a JWKS/token server, and a minting helper."""

    google_key: rsa.RSAPrivateKey = field(default_factory=rsa_key)
    iap_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    kid: str = "test-google-key"
    iap_kid: str = "test-iap-key"
    token_lifetime: int = 3600
    calls: Counter = field(default_factory=Counter)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    # --- minting -------------------------------------------------------------------------

    def id_token(
        self,
        email: str,
        audience: str,
        *,
        issuer: str = GOOGLE_ISSUER,
        issued_at: float | None = None,
        lifetime: int | None = None,
        key: Any = None,
        kid: str | None = None,
        algorithm: str = "RS256",
        **claims: Any,
    ) -> str:
        now = time.time() if issued_at is None else issued_at
        payload = {
            "iss": issuer,
            "aud": audience,
            "sub": str(uuid.uuid5(uuid.NAMESPACE_DNS, email).int)[:21],
            "email": email,
            "email_verified": True,
            "iat": int(now),
            "exp": int(now + (self.token_lifetime if lifetime is None else lifetime)),
            **claims,
        }
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(
            payload,
            self.google_key if key is None else key,
            algorithm=algorithm,
            headers={"kid": kid or self.kid},
        )

    def iap_assertion(self, email: str, audience: str, **claims: Any) -> str:
        return self.id_token(
            email,
            audience,
            issuer=IAP_ISSUER,
            key=self.iap_key,
            kid=self.iap_kid,
            algorithm="ES256",
            **claims,
        )

    # --- serving -------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self.google_key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def iap_jwks(self) -> dict[str, Any]:
        public = ECAlgorithm.to_jwk(self.iap_key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.iap_kid, "alg": "ES256"}]}

    def token_grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", "")
        self.calls[grant] += 1
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            # A service account's self-signed assertion (google-auth's IDTokenCredentials).
            claims = jwt.decode(form["assertion"], options={"verify_signature": False})
            return 200, {"id_token": self.id_token(claims["iss"], claims["target_audience"])}
        if grant == "refresh_token":
            # `gcloud auth application-default login` credentials: refresh_token is
            # "refresh:<email>" here; the ID token's audience is the OAuth client.
            email = form["refresh_token"].removeprefix("refresh:")
            return 200, {
                "access_token": f"ya29.fake-{uuid.uuid4().hex}",
                "expires_in": self.token_lifetime,
                "token_type": "Bearer",
                "scope": "openid https://www.googleapis.com/auth/userinfo.email",
                "id_token": self.id_token(email, form["client_id"]),
            }
        if grant == "authorization_code":
            pending = self.codes.pop(form.get("code", ""), None)
            if pending is None:
                return 400, {"error": "invalid_grant", "error_description": "Bad code."}
            verifier = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(verifier).rstrip(b"=").decode() != pending["challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "PKCE mismatch."}
            return 200, {
                "access_token": "ya29.fake",
                "id_token": self.id_token(pending["email"], form["client_id"], **pending["claims"]),
            }
        return 400, {"error": "unsupported_grant_type"}

    def start(self) -> FakeGoogle:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                documents = {"/certs": fake.jwks, "/iap-certs": fake.iap_jwks}
                if self.path not in documents:
                    self._reply(404, {"error": "not found"})
                    return
                fake.calls[self.path] += 1
                self._reply(200, documents[self.path]())

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                self._reply(*fake.token_grant(form))

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
