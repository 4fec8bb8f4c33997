"""Users, permissions and access tokens over REST.

Shaped like MLflow's auth plugin where it has an endpoint: ``users/*``,
``experiments/permissions/*`` and ``registered-models/permissions/*`` under
``/api/2.0/mlflow``, and MLflow 3's ``users/permissions/{grant,revoke,get}`` under
``/api/3.0/mlflow`` (what ``mlflow.server.auth.client.AuthServiceClient`` calls). A
permission's ``username`` may also be ``group:<name>``. Access tokens are Stratus's own:
``/api/2.0/stratus/tokens/*``. service/http/guard/rules.py guards each route; handlers check
the rest (yourself or an admin) and tell the auth cache what changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.auth import passwords, tokens
from service.auth.access import Access
from service.auth.permissions import Caller, Grants, Permission, Principal
from service.errors import BadRequest, InvalidParameterValue, PermissionDenied
from service.http.context import blocking
from service.http.parsing import Int64, Message, Text, parse_json, parse_query
from service.http.responses import ok
from service.http.wire.auth import GRANT_FIELDS, grant_json, token_json, user_json
from service.store.auth import normalize_principal, normalize_username
from service.store.entities.auth import ResourceKind
from service.store.experiments import parse_experiment_id


def _context(request: Request) -> tuple[Access, Caller]:
    caller: Caller | None = request.scope.get("state", {}).get("caller")
    access: Access | None = getattr(request.app.state, "auth", None)
    if caller is None or access is None:
        raise BadRequest(
            "Authentication is not enabled on this server (STRATUS_AUTH_ENABLED=false)."
        )
    return access, caller


def _require_self_or_admin(caller: Caller, username: str) -> None:
    if not (caller.principal.is_admin or caller.principal.username == username):
        raise PermissionDenied("Permission denied: only admins may act for other users.")


# --- users ---------------------------------------------------------------------------


class UserRef(Message):
    username: Text


class CreateUser(Message):
    """A password makes a basic-auth user; without one, a member who signs in with Google."""

    username: Text
    password: Text | None = None
    is_admin: bool = False


class UpdatePassword(Message):
    username: Text
    password: Text
    current_password: Text | None = None


class UpdateAdmin(Message):
    username: Text
    is_admin: bool


async def create_user(request: Request) -> Response:
    access, _ = _context(request)
    msg = await parse_json(request, CreateUser)
    username = normalize_username(msg.username)
    hashed = await blocking(passwords.hash_password, msg.password) if msg.password else None
    user = await blocking(access.store.create_user, username, hashed, is_admin=msg.is_admin)
    access.user_changed(username)
    return ok({"user": user_json(user, [])})


async def get_user(request: Request) -> Response:
    access, caller = _context(request)
    username = normalize_username(parse_query(request, UserRef).username)
    _require_self_or_admin(caller, username)
    user = await blocking(access.store.get_user, username)
    grants = await blocking(access.store.grants_for, [username])
    return ok({"user": user_json(user, grants)})


async def current_user(request: Request) -> Response:
    access, caller = _context(request)
    principal = caller.principal
    user = await blocking(access.store.find_user, principal.username)
    body: dict[str, Any] = {"username": principal.username, "is_admin": principal.is_admin}
    if user is not None:
        body["id"] = user.id
    body["groups"] = sorted(principal.groups)
    return ok({"user": body, "is_basic_auth": caller.via == "basic", "auth_method": caller.via})


async def list_users(request: Request) -> Response:
    access, _ = _context(request)
    users = await blocking(access.store.list_users)
    return ok({"users": [user_json(u) for u in users]})


async def update_password(request: Request) -> Response:
    access, caller = _context(request)
    msg = await parse_json(request, UpdatePassword)
    username = normalize_username(msg.username)
    _require_self_or_admin(caller, username)
    if not caller.principal.is_admin:
        current = msg.current_password or ""
        if not await blocking(access.passwords.verify, username, current):
            raise PermissionDenied("The current password is missing or incorrect.")
    hashed = await blocking(passwords.hash_password, msg.password)
    await blocking(access.store.set_password, username, hashed)
    access.user_changed(username)
    return ok()


async def update_admin(request: Request) -> Response:
    access, _ = _context(request)
    msg = await parse_json(request, UpdateAdmin)
    username = normalize_username(msg.username)
    await blocking(access.store.set_admin, username, msg.is_admin)
    access.user_changed(username)
    return ok()


async def delete_user(request: Request) -> Response:
    access, _ = _context(request)
    username = normalize_username((await parse_json(request, UserRef)).username)
    await blocking(access.store.delete_user, username)
    access.user_changed(username)
    access.tokens.forget_user(username)
    access.grants_changed()
    return ok()


# --- permissions (MLflow 2 shape) ------------------------------------------------------


class GrantRef(Message):
    """A user's grant on one resource; each subclass adds the field that names the resource."""

    username: Text


class GrantChange(GrantRef):
    permission: Text


class ExperimentGrantRef(GrantRef):
    experiment_id: Text


class ExperimentGrant(ExperimentGrantRef, GrantChange):
    pass


class ExperimentRef(Message):
    experiment_id: Text


class ModelGrantRef(GrantRef):
    name: Text


class ModelGrant(ModelGrantRef, GrantChange):
    pass


class ModelRef(Message):
    name: Text


def _experiment(raw: str) -> str:
    return str(parse_experiment_id(raw))


@dataclass(frozen=True)
class _Permissions:
    """MLflow 2's ``<path>/permissions/*`` endpoints for one kind of resource."""

    kind: ResourceKind
    path: str
    #: Request messages: the resource; the resource and a username; and a permission.
    resource_ref: type[Message]
    grant_ref: type[GrantRef]
    grant: type[GrantChange]
    #: The resource's key as stored, from the request's.
    normalize: Callable[[str], str] = str

    @property
    def key(self) -> str:
        """How requests and answers name the resource (``experiment_id``, ``name``)."""
        return GRANT_FIELDS[self.kind][0]

    @property
    def answer(self) -> str:
        """The answer's field for one permission; for a list, the plural."""
        return GRANT_FIELDS[self.kind][1]

    def _resource(self, msg: Message) -> str:
        return self.normalize(getattr(msg, self.key))

    def _holder(self, msg: GrantRef) -> tuple[ResourceKind, str, str]:
        """The resource a grant request names, and whose grant it is."""
        return self.kind, self._resource(msg), normalize_principal(msg.username)

    def _new_holder(self, access: Access, msg: GrantRef) -> tuple[ResourceKind, str, str]:
        """As :meth:`_holder`, for a grant being written: its group must be configured."""
        principal = normalize_principal(msg.username)
        access.team.require_group(principal)
        return self.kind, self._resource(msg), principal

    async def create(self, request: Request) -> Response:
        access, _ = _context(request)
        msg = await parse_json(request, self.grant)
        holder = self._new_holder(access, msg)
        permission = Permission.parse(msg.permission).name
        grant = await blocking(access.store.create_grant, *holder, permission)
        access.grants_changed()
        return ok({self.answer: grant_json(grant)})

    async def read(self, request: Request) -> Response:
        access, _ = _context(request)
        msg = parse_query(request, self.grant_ref)
        grant = await blocking(access.store.get_grant, *self._holder(msg))
        return ok({self.answer: grant_json(grant)})

    async def listing(self, request: Request) -> Response:
        access, _ = _context(request)
        msg = parse_query(request, self.resource_ref)
        found = await blocking(access.store.grants_on, self.kind, self._resource(msg))
        return ok({f"{self.answer}s": [grant_json(g) for g in found]})

    async def update(self, request: Request) -> Response:
        access, _ = _context(request)
        msg = await parse_json(request, self.grant)
        holder = self._new_holder(access, msg)
        permission = Permission.parse(msg.permission).name
        await blocking(access.store.update_grant, *holder, permission)
        access.grants_changed()
        return ok()

    async def delete(self, request: Request) -> Response:
        access, _ = _context(request)
        msg = await parse_json(request, self.grant_ref)
        await blocking(access.store.delete_grant, *self._holder(msg))
        access.grants_changed()
        return ok()

    def routes(self) -> list[Route]:
        base = f"{self.path}/permissions"
        return [
            Route(f"{base}/create", self.create, methods=["POST"]),
            Route(f"{base}/get", self.read, methods=["GET"]),
            Route(f"{base}/list", self.listing, methods=["GET"]),
            Route(f"{base}/update", self.update, methods=["PATCH"]),
            Route(f"{base}/delete", self.delete, methods=["DELETE"]),
        ]


EXPERIMENT_PERMISSIONS = _Permissions(
    kind=ResourceKind.EXPERIMENT,
    path="/experiments",
    resource_ref=ExperimentRef,
    grant_ref=ExperimentGrantRef,
    grant=ExperimentGrant,
    normalize=_experiment,
)
MODEL_PERMISSIONS = _Permissions(
    kind=ResourceKind.REGISTERED_MODEL,
    path="/registered-models",
    resource_ref=ModelRef,
    grant_ref=ModelGrantRef,
    grant=ModelGrant,
)


# --- permissions (MLflow 3 shape) ------------------------------------------------------


class ResourceGrantRef(Message):
    username: Text
    resource_type: Text
    resource_id: Text


class ResourceGrant(ResourceGrantRef):
    permission: Text


def _resource(msg: ResourceGrantRef) -> tuple[ResourceKind, str]:
    try:
        kind = ResourceKind(msg.resource_type)
    except ValueError:
        valid = ", ".join(k.value for k in ResourceKind)
        raise InvalidParameterValue(
            f"Invalid resource type '{msg.resource_type}'. Valid resource types are: {valid}"
        ) from None
    resource = msg.resource_id
    if kind is ResourceKind.EXPERIMENT:
        resource = _experiment(resource)
    return kind, resource


async def _require_manage(
    access: Access, caller: Caller, kind: ResourceKind, resource: str
) -> None:
    """MANAGE on the resource, judged on fresh grants (a model's name may have moved)."""
    caller = await access.refreshed(caller)
    if not caller.permission(kind, resource).allows(Permission.MANAGE):
        raise PermissionDenied(
            f"Permission denied: MANAGE on {kind.value} '{resource}' is required."
        )


async def grant_permission(request: Request) -> Response:
    access, caller = _context(request)
    msg = await parse_json(request, ResourceGrant)
    kind, resource = _resource(msg)
    await _require_manage(access, caller, kind, resource)
    principal = normalize_principal(msg.username)
    access.team.require_group(principal)
    permission = Permission.parse(msg.permission).name
    await blocking(access.store.put_grant, kind, resource, principal, permission)
    access.grants_changed()
    return ok()


async def revoke_permission(request: Request) -> Response:
    access, caller = _context(request)
    msg = await parse_json(request, ResourceGrantRef)
    kind, resource = _resource(msg)
    await _require_manage(access, caller, kind, resource)
    await blocking(access.store.delete_grant, kind, resource, normalize_principal(msg.username))
    access.grants_changed()
    return ok()


async def effective_permission(request: Request) -> Response:
    """A user's permission on one resource.

    Asked about yourself: what your requests get (MANAGE for an admin). Asked by a manager
    about someone else: what the grants on record give that username (their own, their
    groups', or the default), the same for members and non-members and without the admin
    override, so the answer does not tell who is a member or an admin.
    """
    access, caller = _context(request)
    msg = parse_query(request, ResourceGrantRef)
    kind, resource = _resource(msg)
    username = normalize_username(msg.username)
    if username == caller.principal.username:
        permission = (await access.refreshed(caller)).permission(kind, resource)
    else:
        await _require_manage(access, caller, kind, resource)
        principal = Principal(username, groups=access.team.groups_of(username))
        rows = await blocking(access.store.grants_for, principal.names)
        permission = Grants.resolve(username, rows, access.default).on(kind, resource)
    return ok({"allowed": permission.allows(Permission.EDIT), "permission": permission.name})


# --- personal access tokens ----------------------------------------------------------


class CreateToken(Message):
    name: Text = ""
    expires_in_days: Int64 = tokens.DEFAULT_DAYS
    username: Text | None = None


class ListTokens(Message):
    username: Text | None = None


class TokenRef(Message):
    token_id: Text


async def create_token(request: Request) -> Response:
    """A new token, shown once; for yourself, or (admins) for any user."""
    access, caller = _context(request)
    msg = await parse_json(request, CreateToken)
    username = normalize_username(msg.username or caller.principal.username)
    _require_self_or_admin(caller, username)
    await access.principal(username)  # only members can hold tokens
    issued = await blocking(
        tokens.issue, access.store, username, msg.name, msg.expires_in_days, caller.token_id
    )
    return ok({"token": issued.secret, "access_token": token_json(issued.record)})


async def list_tokens(request: Request) -> Response:
    """Your tokens; an admin may name a user, or leave it out to see everyone's."""
    access, caller = _context(request)
    msg = parse_query(request, ListTokens)
    username: str | None
    if msg.username is not None:
        username = normalize_username(msg.username)
        _require_self_or_admin(caller, username)
    else:
        username = None if caller.principal.is_admin else caller.principal.username
    found = await blocking(access.store.list_tokens, username)
    return ok({"access_tokens": [token_json(t) for t in found]})


async def revoke_token(request: Request) -> Response:
    access, caller = _context(request)
    msg = await parse_json(request, TokenRef)
    record = await blocking(access.store.get_token, msg.token_id)
    _require_self_or_admin(caller, record.username)
    await blocking(access.store.revoke_token, msg.token_id)
    for token_id in [msg.token_id, *await blocking(access.store.descendants, msg.token_id)]:
        access.token_revoked(token_id)
    return ok()


#: Under /api/2.0/mlflow and /ajax-api/2.0/mlflow.
routes = [
    Route("/users/create", create_user, methods=["POST"]),
    Route("/users/get", get_user, methods=["GET"]),
    Route("/users/current", current_user, methods=["GET"]),
    Route("/users/list", list_users, methods=["GET"]),
    Route("/users/update-password", update_password, methods=["PATCH"]),
    Route("/users/update-admin", update_admin, methods=["PATCH"]),
    Route("/users/delete", delete_user, methods=["DELETE"]),
    *EXPERIMENT_PERMISSIONS.routes(),
    *MODEL_PERMISSIONS.routes(),
]

#: Under /api/3.0/mlflow and /ajax-api/3.0/mlflow.
v3_routes = [
    Route("/users/permissions/grant", grant_permission, methods=["POST"]),
    Route("/users/permissions/revoke", revoke_permission, methods=["POST"]),
    Route("/users/permissions/get", effective_permission, methods=["GET"]),
]

#: Under /api/2.0/stratus/tokens and /ajax-api/2.0/stratus/tokens.
token_routes = [
    Route("/create", create_token, methods=["POST"]),
    Route("/list", list_tokens, methods=["GET"]),
    Route("/revoke", revoke_token, methods=["POST"]),
]
