"""Who is calling, and what they may touch: the state the middleware and endpoints share.

One :class:`Access` lives on ``app.state.auth`` while auth is on. It turns a request's
credentials into a :class:`~service.auth.permissions.Caller` (identity, membership, grants)
and answers the lookups rules need (which experiment a run belongs to). Everything it
learns from the database or from Google is cached for ``auth_cache_seconds`` (run and
logged-model owners forever: they never change), so a warm request costs a few dict
lookups. Blocking work (database, key fetches, the password KDF) runs in the thread pool.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import Scope

from service.auth.cache import ExpiringCache
from service.auth.google_oauth import GoogleOAuth
from service.auth.identity import (
    GoogleIdentity,
    JwtVerifier,
    KeySet,
    google_id_tokens,
    iap_assertions,
)
from service.auth.passwords import PasswordVerifier
from service.auth.permissions import ADMIN_GRANTS, Caller, Grants, Permission, Principal, Team
from service.auth.sessions import COOKIE, SessionCodec, is_same_origin
from service.auth.throttle import FailureThrottle, KdfGate
from service.auth.tokens import TokenVerifier, is_access_token
from service.config import Settings
from service.errors import PermissionDenied, Unauthenticated
from service.store.auth import AuthStore
from service.store.clock import now_ms
from service.store.entities.auth import SessionRecord

log = logging.getLogger(__name__)

#: Run and logged-model owners never change; keep them for a day (bounded in size).
OWNER_TTL_SECONDS = 24 * 3600
IAP_HEADER = "x-goog-iap-jwt-assertion"


@dataclass(frozen=True, slots=True)
class Identity:
    """A verified credential: who, how, and (for access tokens) which token."""

    username: str
    via: str
    token_id: str | None = None


class Access:
    def __init__(
        self,
        settings: Settings,
        store: AuthStore,
        *,
        google_keys: KeySet | None = None,
        iap_keys: KeySet | None = None,
        oauth: GoogleOAuth | None = None,
    ) -> None:
        ttl = settings.auth_cache_seconds
        self.settings = settings
        self.store = store
        self.team = Team.of(settings.admins, settings.members, settings.groups)
        self.default = Permission[settings.default_permission]
        self.tokens = TokenVerifier(store, ttl)
        self.passwords = PasswordVerifier(store, ttl)
        self.kdf = KdfGate()
        self.failures = FailureThrottle()
        audiences = [*settings.auth_audiences]
        if settings.oauth_client_id:
            audiences.append(settings.oauth_client_id)
        self.id_tokens = google_id_tokens(
            google_keys or KeySet(settings.google_certs_url), audiences
        )
        self.iap: JwtVerifier | None = None
        if settings.iap_audience:
            keys = iap_keys or KeySet(settings.iap_certs_url)
            self.iap = iap_assertions(keys, settings.iap_audience)
        self.sessions = SessionCodec(_session_key(settings), settings.session_max_age_seconds)
        self.oauth = oauth or GoogleOAuth.from_settings(settings)
        self._ttl = ttl
        self._google: ExpiringCache[GoogleIdentity] = ExpiringCache()
        #: A member, or the reason a username is not one.
        self._principals: ExpiringCache[Principal | str] = ExpiringCache()
        self._grants: ExpiringCache[Grants] = ExpiringCache()
        self._active_tokens: ExpiringCache[bool] = ExpiringCache()
        self._session_records: ExpiringCache[SessionRecord] = ExpiringCache()
        self._run_owner: ExpiringCache[int] = ExpiringCache(max_entries=200_000)
        self._model_owner: ExpiringCache[int] = ExpiringCache(max_entries=50_000)

    # --- authentication --------------------------------------------------------------

    async def authenticate(self, scope: Scope) -> Caller:
        """The caller behind this request. Unauthenticated (401) or PermissionDenied (403)."""
        headers = Headers(scope=scope)
        identity = await self._identify(scope, headers)
        principal = await self.principal(identity.username)
        grants = ADMIN_GRANTS if principal.is_admin else await self._grants_of(principal)
        return Caller(principal, grants, identity.via, token_id=identity.token_id)

    async def verify_credential(self, credential: str) -> Identity:
        """An access token or a Google ID token, as pasted on the sign-in page."""
        if is_access_token(credential):
            return await self._access_token(credential)
        return await self._google_id_token(credential)

    async def principal(self, username: str) -> Principal:
        """The member ``username`` (PermissionDenied if not a member of the team)."""
        found = self._principals.get(username)
        if found is None:
            record = await run_in_threadpool(self.store.find_user, username)
            if not self.team.admits(username, registered=record is not None):
                found = f"{username} is not a member of this Stratus server; an admin can add you."
            else:
                found = Principal(
                    username,
                    is_admin=username in self.team.admins or bool(record and record.is_admin),
                    groups=self.team.groups_of(username),
                )
            self._principals.put(username, found, self._ttl)
        if isinstance(found, str):
            raise PermissionDenied(found)
        return found

    async def _identify(self, scope: Scope, headers: Headers) -> Identity:
        own_origin = origin_of(scope, headers)
        authorization = headers.get("authorization")
        if self.iap is not None and IAP_HEADER in headers:
            identity = await self._iap(headers[IAP_HEADER])
            if authorization is None:  # a browser behind IAP: its cookie is the credential
                _check_same_origin(scope, own_origin, headers)
            return identity
        if authorization is not None:
            scheme, _, value = authorization.partition(" ")
            scheme, value = scheme.lower(), value.strip()
            if scheme == "bearer" and value:
                return await self.verify_credential(value)
            if scheme == "basic" and value:
                return await self._basic(value, _client_address(scope))
            raise Unauthenticated("Unsupported Authorization header: use Bearer or Basic.")
        cookie = cookie_parser(headers.get("cookie", "")).get(COOKIE)
        if cookie:
            identity = await self._session(cookie)
            _check_same_origin(scope, own_origin, headers)
            return identity
        raise Unauthenticated(
            "Authentication required: send a Google ID token or a Stratus access token as "
            "a Bearer token (MLFLOW_TRACKING_TOKEN, or the stratus-auth plugin), or basic "
            "credentials (MLFLOW_TRACKING_USERNAME/PASSWORD)."
        )

    async def _access_token(self, secret: str) -> Identity:
        found = self.tokens.cached(secret)
        if found is None:
            found = await run_in_threadpool(self.tokens.verify, secret)
        return Identity(found.username, "token", found.token_id)

    async def _google_id_token(self, token: str) -> Identity:
        """Audiences come from configuration only, never from the request's Host."""
        found = self._google.get(token)
        if found is None:
            found = await run_in_threadpool(self.id_tokens.verify, token)
            self._google.put(token, found, found.expires_at - time.time())
        return Identity(found.email, "google")

    async def _iap(self, assertion: str) -> Identity:
        assert self.iap is not None
        found = self._google.get(assertion)
        if found is None:
            found = await run_in_threadpool(self.iap.verify, assertion)
            self._google.put(assertion, found, found.expires_at - time.time())
        return Identity(found.email, "iap")

    async def _basic(self, encoded: str, client: str) -> Identity:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("Malformed basic credentials.") from None
        raw_user, sep, password = decoded.partition(":")
        username = raw_user.strip().lower()
        if not sep or not username:
            raise Unauthenticated("Malformed basic credentials.")
        if self.passwords.cached(username, password):
            return Identity(username, "basic")
        self.failures.check(username, client)
        async with self.kdf.slot():  # before a pool thread is taken
            verified = await run_in_threadpool(self.passwords.verify, username, password)
        if not verified:
            self.failures.failed(username, client)
            raise Unauthenticated("Incorrect username or password.")
        return Identity(username, "basic")

    async def _session(self, cookie: str) -> Identity:
        session_id = self.sessions.session_id(cookie)
        record = None if session_id is None else await self._session_record(session_id)
        if record is None or not record.is_active(now_ms()):
            raise Unauthenticated("Your session has ended; sign in again.")
        if record.token_id is not None:
            active = self._active_tokens.get(record.token_id)
            if active is None:
                active = await run_in_threadpool(self.tokens.is_active, record.token_id)
                self._active_tokens.put(record.token_id, active, self._ttl)
            if not active:
                raise Unauthenticated(
                    "The access token this session was opened with is no longer valid."
                )
        return Identity(record.username, "session", record.token_id)

    async def _session_record(self, session_id: str) -> SessionRecord | None:
        found = self._session_records.get(session_id)
        if found is None:
            found = await run_in_threadpool(self.store.find_session, session_id)
            if found is not None:
                self._session_records.put(session_id, found, self._ttl)
        return found

    # --- browser sessions --------------------------------------------------------------

    async def open_session(self, username: str, via: str, token_id: str | None = None) -> str:
        """Record a new session; returns the cookie value that names it."""
        session_id = secrets.token_urlsafe(32)
        await run_in_threadpool(
            functools.partial(
                self.store.create_session,
                session_id=session_id,
                username=username,
                via=via,
                token_id=token_id,
                expiry_time=now_ms() + self.sessions.max_age * 1000,
            )
        )
        return self.sessions.session_cookie(session_id)

    async def end_session(self, cookie: str) -> None:
        """Sign out: the session named by ``cookie`` (if valid) ends on the server."""
        session_id = self.sessions.session_id(cookie)
        if session_id is not None:
            await run_in_threadpool(self.store.revoke_session, session_id)
            self._session_records.discard(session_id)

    async def _grants_of(self, principal: Principal) -> Grants:
        found = self._grants.get(principal.username)
        return found if found is not None else await self._read_grants(principal)

    async def _read_grants(self, principal: Principal) -> Grants:
        rows = await run_in_threadpool(self.store.grants_for, principal.names)
        found = Grants.resolve(principal.username, rows, self.default)
        self._grants.put(principal.username, found, self._ttl)
        return found

    async def refreshed(self, caller: Caller) -> Caller:
        """``caller`` with their grants read afresh from the database."""
        if caller.fresh or caller.principal.is_admin:
            return caller
        grants = await self._read_grants(caller.principal)
        return dataclasses.replace(caller, grants=grants, fresh=True)

    # --- what a request touches ------------------------------------------------------

    async def experiments_of_runs(self, run_ids: Sequence[str]) -> list[int]:
        """The experiments of the runs that exist among ``run_ids``."""
        owners = {run: self._run_owner.get(run) for run in run_ids}
        missing = [run for run, owner in owners.items() if owner is None]
        if missing:
            found = await run_in_threadpool(self.store.experiments_of_runs, missing)
            for run, experiment in found.items():
                self._run_owner.put(run, experiment, OWNER_TTL_SECONDS)
                owners[run] = experiment
        return sorted({owner for owner in owners.values() if owner is not None})

    async def experiment_of_logged_model(self, model_id: str) -> int | None:
        owner = self._model_owner.get(model_id)
        if owner is None:
            owner = await run_in_threadpool(self.store.experiment_of_logged_model, model_id)
            if owner is not None:
                self._model_owner.put(model_id, owner, OWNER_TTL_SECONDS)
        return owner

    # --- changes made through this instance take effect at once -----------------------

    def grants_changed(self, username: str | None = None) -> None:
        """Drop cached grants: ``username``'s, or (a group's may have changed) everyone's."""
        if username is None:
            self._grants.clear()
        else:
            self._grants.discard(username)

    def user_changed(self, username: str) -> None:
        self._principals.discard(username)
        self._grants.discard(username)
        self.passwords.forget(username)

    def token_revoked(self, token_id: str) -> None:
        self.tokens.forget(token_id)
        self._active_tokens.discard(token_id)


def _client_address(scope: Scope) -> str:
    """The peer as the server saw it (a trusted proxy's forwarded address, if any)."""
    client = scope.get("client")
    return str(client[0]) if client else ""


def origin_of(scope: Scope, headers: Headers) -> str:
    """This server's origin as the client addressed it (scheme from X-Forwarded-Proto)."""
    host = headers.get("host", "")
    return f"{scope.get('scheme', 'http')}://{host}" if host else ""


def _check_same_origin(scope: Scope, own_origin: str, headers: Headers) -> None:
    if not is_same_origin(scope["method"], own_origin, headers):
        raise PermissionDenied(
            "Cross-site request refused: a browser session may only change data from "
            "this server's own pages."
        )


def _session_key(settings: Settings) -> bytes:
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode()
    log.warning(
        "STRATUS_SESSION_SECRET is not set: browser sessions are signed with a random key "
        "and end when this process restarts (and do not carry across instances)."
    )
    return secrets.token_bytes(32)
