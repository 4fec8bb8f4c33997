"""The access-control store: users, personal access tokens, grants, and resource owners.

Grants name a *principal*: a username, or ``group:<name>`` for a configured group. They
reference their experiment or registered model with cascading foreign keys, so a grant
never outlives its resource and follows a model through a rename. This module knows
nothing of HTTP or of how credentials are verified (service/auth does that).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ColumnElement

from service.errors import (
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    Unauthenticated,
)
from service.store.clock import now_ms
from service.store.db import AnyRow, Database
from service.store.entities.auth import (
    Grant,
    ResourceKind,
    RunState,
    SessionRecord,
    TokenRecord,
    UserRecord,
)
from service.store.tables import (
    USERNAME,
    AccessToken,
    BrowserSession,
    Experiment,
    ExperimentPermission,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelPermission,
    Run,
    User,
    table_of,
)

users = table_of(User)
tokens = table_of(AccessToken)
sessions = table_of(BrowserSession)
experiment_grants = table_of(ExperimentPermission)
model_grants = table_of(RegisteredModelPermission)

GROUP_PREFIX = "group:"


def normalize_username(raw: str | None) -> str:
    """Usernames and emails are compared case-insensitively: stored lower-case, trimmed."""
    name = (raw or "").strip().lower()
    if not name:
        raise InvalidParameterValue("Missing value for required parameter 'username'.")
    if len(name) > USERNAME or any(c.isspace() or not c.isprintable() for c in name):
        raise InvalidParameterValue(f"Invalid username {raw!r}.")
    if name.startswith(GROUP_PREFIX):
        raise InvalidParameterValue(f"A username cannot start with '{GROUP_PREFIX}'.")
    return name


def normalize_principal(raw: str | None) -> str:
    """A username, or ``group:<name>``; both compared case-insensitively (lower-case)."""
    value = (raw or "").strip()
    if value.lower().startswith(GROUP_PREFIX):
        group = value[len(GROUP_PREFIX) :].strip().lower()
        if not group or len(value) > USERNAME:
            raise InvalidParameterValue(f"Invalid group principal {raw!r}.")
        return GROUP_PREFIX + group
    return normalize_username(value)


@dataclass(frozen=True, slots=True)
class Visible:
    """Which resources a caller may see in search results: only ``keys``, or all but them."""

    keys: frozenset[Any]
    exclude: bool

    def clause(self, column: ColumnElement[Any]) -> ColumnElement[bool]:
        if self.exclude:
            return column.not_in(list(self.keys)) if self.keys else sa.true()
        return column.in_(list(self.keys)) if self.keys else sa.false()


class AuthStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- users -----------------------------------------------------------------------

    def create_user(
        self, username: str, password_hash: str | None = None, *, is_admin: bool = False
    ) -> UserRecord:
        try:
            with self.db.write() as conn:
                conn.execute(
                    sa.insert(users).values(
                        username=username,
                        password_hash=password_hash,
                        is_admin=is_admin,
                        creation_time=now_ms(),
                    )
                )
                return self._user(conn, username)
        except IntegrityError as exc:
            raise ResourceAlreadyExists(f"User '{username}' already exists.") from exc

    def find_user(self, username: str) -> UserRecord | None:
        with self.db.read() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        return _user_record(row) if row else None

    def get_user(self, username: str) -> UserRecord:
        with self.db.read() as conn:
            return self._user(conn, username)

    def list_users(self) -> list[UserRecord]:
        with self.db.read() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.username)).all()
        return [_user_record(r) for r in rows]

    def password_hash(self, username: str) -> str | None:
        with self.db.read() as conn:
            return conn.execute(
                sa.select(users.c.password_hash).where(users.c.username == username)
            ).scalar()

    def set_password(self, username: str, password_hash: str) -> None:
        self._update_user(username, password_hash=password_hash)

    def set_admin(self, username: str, is_admin: bool) -> None:
        self._update_user(username, is_admin=is_admin)

    def delete_user(self, username: str) -> None:
        """Remove the user with their tokens, sessions and own grants (group grants stay)."""
        with self.db.write() as conn:
            self._user(conn, username)
            conn.execute(sa.delete(tokens).where(tokens.c.username == username))
            conn.execute(sa.delete(sessions).where(sessions.c.username == username))
            for table in (experiment_grants, model_grants):
                conn.execute(sa.delete(table).where(table.c.principal == username))
            conn.execute(sa.delete(users).where(users.c.username == username))

    def _update_user(self, username: str, **values: Any) -> None:
        with self.db.write() as conn:
            self._user(conn, username)
            conn.execute(sa.update(users).where(users.c.username == username).values(**values))

    @staticmethod
    def _user(conn: Connection, username: str) -> UserRecord:
        row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if row is None:
            raise ResourceDoesNotExist(f"User with username={username} not found")
        return _user_record(row)

    # --- personal access tokens ------------------------------------------------------

    def create_token(
        self,
        *,
        token_id: str,
        token_hash: str,
        username: str,
        name: str,
        expiry_time: int,
        parent_token_id: str | None = None,
    ) -> TokenRecord:
        """A new token; one made with another token (``parent_token_id``) expires no later
        than its parent, and only while the parent is active (else Unauthenticated)."""
        with self.db.write() as conn:
            if parent_token_id is not None:
                parent = self._token(conn, tokens.c.token_id == parent_token_id, parent_token_id)
                if not parent.is_active(now_ms()):
                    raise Unauthenticated(
                        "The access token behind this request is no longer valid."
                    )
                expiry_time = min(expiry_time, parent.expiry_time)
            conn.execute(
                sa.insert(tokens).values(
                    token_id=token_id,
                    token_hash=token_hash,
                    username=username,
                    name=name,
                    creation_time=now_ms(),
                    expiry_time=expiry_time,
                    parent_token_id=parent_token_id,
                )
            )
            return self._token(conn, tokens.c.token_id == token_id, token_id)

    def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        with self.db.read() as conn:
            row = conn.execute(sa.select(tokens).where(tokens.c.token_hash == token_hash)).first()
        return _token_record(row) if row else None

    def get_token(self, token_id: str) -> TokenRecord:
        with self.db.read() as conn:
            return self._token(conn, tokens.c.token_id == token_id, token_id)

    def list_tokens(self, username: str | None = None) -> list[TokenRecord]:
        query = sa.select(tokens).order_by(tokens.c.creation_time.desc(), tokens.c.token_id)
        if username is not None:
            query = query.where(tokens.c.username == username)
        with self.db.read() as conn:
            return [_token_record(r) for r in conn.execute(query)]

    def revoke_token(self, token_id: str) -> TokenRecord:
        """Mark the token revoked (idempotent), and with it every token made with it, and
        theirs; the records stay for the audit trail. :meth:`descendants` names the others."""
        with self.db.write() as conn:
            self._token(conn, tokens.c.token_id == token_id, token_id)
            revoked = [token_id, *self._descendants(conn, token_id)]
            conn.execute(
                sa.update(tokens)
                .where(tokens.c.token_id.in_(revoked), tokens.c.revoked_time.is_(None))
                .values(revoked_time=now_ms())
            )
            return self._token(conn, tokens.c.token_id == token_id, token_id)

    def descendants(self, token_id: str) -> list[str]:
        """The tokens made with ``token_id``, and with those, and so on."""
        with self.db.read() as conn:
            return self._descendants(conn, token_id)

    @staticmethod
    def _descendants(conn: Connection, token_id: str) -> list[str]:
        found: list[str] = []
        frontier = [token_id]
        while frontier:
            frontier = list(
                conn.execute(
                    sa.select(tokens.c.token_id).where(tokens.c.parent_token_id.in_(frontier))
                ).scalars()
            )
            found += frontier
        return found

    @staticmethod
    def _token(conn: Connection, where: ColumnElement[bool], token_id: str) -> TokenRecord:
        row = conn.execute(sa.select(tokens).where(where)).first()
        if row is None:
            raise ResourceDoesNotExist(f"Access token {token_id} not found")
        return _token_record(row)

    # --- browser sessions ------------------------------------------------------------

    def create_session(
        self, *, session_id: str, username: str, via: str, token_id: str | None, expiry_time: int
    ) -> None:
        with self.db.write() as conn:
            conn.execute(
                sa.insert(sessions).values(
                    session_id=session_id,
                    username=username,
                    via=via,
                    token_id=token_id,
                    creation_time=now_ms(),
                    expiry_time=expiry_time,
                )
            )

    def find_session(self, session_id: str) -> SessionRecord | None:
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(sessions).where(sessions.c.session_id == session_id)
            ).first()
        if row is None:
            return None
        return SessionRecord(
            row.session_id, row.username, row.via, row.token_id, row.expiry_time, row.revoked_time
        )

    def revoke_session(self, session_id: str) -> None:
        """End a session (signing out); idempotent, and the row stays for the audit trail."""
        with self.db.write() as conn:
            conn.execute(
                sa.update(sessions)
                .where(sessions.c.session_id == session_id, sessions.c.revoked_time.is_(None))
                .values(revoked_time=now_ms())
            )

    # --- grants ----------------------------------------------------------------------

    def grants_for(self, principals: Collection[str]) -> list[Grant]:
        """Every grant naming one of ``principals``, on experiments and registered models."""
        found: list[Grant] = []
        with self.db.read() as conn:
            for kind in ResourceKind:
                table, key = _grant_table(kind)
                for row in conn.execute(
                    sa.select(key, table.c.principal, table.c.permission).where(
                        table.c.principal.in_(list(principals))
                    )
                ):
                    found.append(Grant(kind, str(row[0]), row[1], row[2]))
        return found

    def grants_on(self, kind: ResourceKind, resource: str) -> list[Grant]:
        table, key = _grant_table(kind)
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(table.c.principal, table.c.permission)
                .where(key == _resource_value(kind, resource))
                .order_by(table.c.principal)
            ).all()
        return [Grant(kind, resource, r[0], r[1]) for r in rows]

    def get_grant(self, kind: ResourceKind, resource: str, principal: str) -> Grant:
        with self.db.read() as conn:
            return self._grant(conn, kind, resource, principal)

    def create_grant(
        self, kind: ResourceKind, resource: str, principal: str, permission: str
    ) -> Grant:
        table, _ = _grant_table(kind)
        try:
            with self.db.write() as conn:
                _require_resource(conn, kind, resource)
                conn.execute(
                    sa.insert(table).values(_grant_row(kind, resource, principal, permission))
                )
        except IntegrityError as exc:
            raise ResourceAlreadyExists(
                f"A permission for '{principal}' on {kind.value} '{resource}' already exists."
            ) from exc
        return Grant(kind, resource, principal, permission)

    def update_grant(
        self, kind: ResourceKind, resource: str, principal: str, permission: str
    ) -> Grant:
        table, key = _grant_table(kind)
        with self.db.write() as conn:
            self._grant(conn, kind, resource, principal)
            conn.execute(
                sa.update(table)
                .where(key == _resource_value(kind, resource), table.c.principal == principal)
                .values(permission=permission)
            )
        return Grant(kind, resource, principal, permission)

    def put_grant(
        self, kind: ResourceKind, resource: str, principal: str, permission: str
    ) -> Grant:
        """Create or overwrite a grant (MLflow 3's ``users/permissions/grant``)."""
        table, key = _grant_table(kind)
        with self.db.write() as conn:
            _require_resource(conn, kind, resource)
            conn.execute(
                sa.delete(table).where(
                    key == _resource_value(kind, resource), table.c.principal == principal
                )
            )
            conn.execute(sa.insert(table).values(_grant_row(kind, resource, principal, permission)))
        return Grant(kind, resource, principal, permission)

    def delete_grant(self, kind: ResourceKind, resource: str, principal: str) -> None:
        table, key = _grant_table(kind)
        with self.db.write() as conn:
            self._grant(conn, kind, resource, principal)
            conn.execute(
                sa.delete(table).where(
                    key == _resource_value(kind, resource), table.c.principal == principal
                )
            )

    @staticmethod
    def _grant(conn: Connection, kind: ResourceKind, resource: str, principal: str) -> Grant:
        table, key = _grant_table(kind)
        permission = conn.execute(
            sa.select(table.c.permission).where(
                key == _resource_value(kind, resource), table.c.principal == principal
            )
        ).scalar()
        if permission is None:
            raise ResourceDoesNotExist(
                f"No permission for '{principal}' on {kind.value} '{resource}'."
            )
        return Grant(kind, resource, principal, permission)

    # --- which experiment a request touches ------------------------------------------

    def experiments_of_runs(self, run_ids: Iterable[str]) -> dict[str, int]:
        runs = table_of(Run)
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(runs.c.run_uuid, runs.c.experiment_id).where(
                    runs.c.run_uuid.in_(list(run_ids))
                )
            ).all()
        return {row[0]: row[1] for row in rows}

    def experiment_of_logged_model(self, model_id: str) -> int | None:
        models = table_of(LoggedModel)
        with self.db.read() as conn:
            return conn.execute(
                sa.select(models.c.experiment_id).where(models.c.model_id == model_id)
            ).scalar()

    def run_states(self, run_ids: Iterable[str]) -> dict[str, RunState]:
        """The experiment and deletion state of each run that exists among ``run_ids``."""
        runs = table_of(Run)
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(runs.c.run_uuid, runs.c.experiment_id, runs.c.lifecycle_stage).where(
                    runs.c.run_uuid.in_(list(run_ids))
                )
            ).all()
        return {row[0]: RunState(row[1], row[2] == "deleted") for row in rows}

    def version_exists(self, name: str, version: int) -> bool:
        versions = table_of(ModelVersion)
        return self._exists(
            sa.select(sa.literal(1)).where(versions.c.name == name, versions.c.version == version)
        )

    def alias_exists(self, name: str, alias: str) -> bool:
        aliases = table_of(RegisteredModelAlias)
        return self._exists(
            sa.select(sa.literal(1)).where(aliases.c.name == name, aliases.c.alias == alias)
        )

    def _exists(self, query: sa.Select[Any]) -> bool:
        with self.db.read() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def experiment_id_by_name(self, name: str) -> int | None:
        experiments = table_of(Experiment)
        with self.db.read() as conn:
            return conn.execute(
                sa.select(experiments.c.experiment_id).where(experiments.c.name == name)
            ).scalar()


def _grant_table(kind: ResourceKind) -> tuple[sa.Table, ColumnElement[Any]]:
    if kind is ResourceKind.EXPERIMENT:
        return experiment_grants, experiment_grants.c.experiment_id
    return model_grants, model_grants.c.name


def _resource_value(kind: ResourceKind, resource: str) -> int | str:
    if kind is ResourceKind.EXPERIMENT:
        try:
            return int(resource)
        except ValueError:
            raise InvalidParameterValue("Experiment ID must be a valid integer") from None
    return resource


def _grant_row(
    kind: ResourceKind, resource: str, principal: str, permission: str
) -> dict[str, object]:
    key = "experiment_id" if kind is ResourceKind.EXPERIMENT else "name"
    return {key: _resource_value(kind, resource), "principal": principal, "permission": permission}


def _require_resource(conn: Connection, kind: ResourceKind, resource: str) -> None:
    if kind is ResourceKind.EXPERIMENT:
        table = table_of(Experiment)
        where = table.c.experiment_id == _resource_value(kind, resource)
        missing = f"No Experiment with id={resource} exists"
    else:
        table = table_of(RegisteredModel)
        where = table.c.name == resource
        missing = f"Registered Model with name={resource} not found"
    if conn.execute(sa.select(sa.literal(1)).select_from(table).where(where)).first() is None:
        raise ResourceDoesNotExist(missing)


def _user_record(row: AnyRow) -> UserRecord:
    return UserRecord(
        id=row.id,
        username=row.username,
        is_admin=bool(row.is_admin),
        has_password=row.password_hash is not None,
        creation_time=row.creation_time,
    )


def _token_record(row: AnyRow) -> TokenRecord:
    return TokenRecord(
        token_id=row.token_id,
        username=row.username,
        name=row.name,
        creation_time=row.creation_time,
        expiry_time=row.expiry_time,
        revoked_time=row.revoked_time,
        parent_token_id=row.parent_token_id,
    )
