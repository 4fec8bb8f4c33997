"""Who may do what: the team (admins, members, groups) and per-resource permissions.

MLflow's semantics: ``READ < EDIT < MANAGE``, and ``NO_PERMISSIONS``. READ reads, EDIT
also updates, MANAGE also deletes and manages permissions. A resource's permission for a
user is their own grant if there is one, else the best grant of their groups, else the
configured default. Admins can do everything. Creators get MANAGE (service/http/guard/rules.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from service.errors import InvalidParameterValue
from service.store.auth import GROUP_PREFIX, Visible
from service.store.entities.auth import Grant, ResourceKind


class Permission(Enum):
    NO_PERMISSIONS = 0
    READ = 1
    EDIT = 2
    MANAGE = 3

    def allows(self, needed: Permission) -> bool:
        return self.value >= needed.value

    @property
    def can_read(self) -> bool:
        return self.allows(Permission.READ)

    @classmethod
    def parse(cls, raw: str | None) -> Permission:
        try:
            return cls[(raw or "").strip().upper()]
        except KeyError:
            valid = ", ".join(p.name for p in cls)
            raise InvalidParameterValue(
                f"Invalid permission '{raw}'. Valid permissions are: {valid}"
            ) from None


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated member of the team."""

    username: str
    is_admin: bool = False
    groups: frozenset[str] = frozenset()

    @property
    def names(self) -> tuple[str, ...]:
        """The principals grants may name for this user: the username and ``group:<g>``."""
        return (self.username, *(GROUP_PREFIX + g for g in sorted(self.groups)))


@dataclass(frozen=True)
class Team:
    """Membership from configuration: who is an admin, a member, and in which groups."""

    admins: frozenset[str] = frozenset()
    members: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        admins: Iterable[str],
        members: Iterable[str],
        groups: Mapping[str, Iterable[str]],
    ) -> Team:
        plain = {m for m in members if not m.startswith("domain:")}
        domains = {m.removeprefix("domain:") for m in members if m.startswith("domain:")}
        return cls(
            admins=frozenset(admins),
            members=frozenset(plain),
            domains=frozenset(domains),
            groups={name.strip().lower(): frozenset(users) for name, users in groups.items()},
        )

    @property
    def is_empty(self) -> bool:
        return not (self.admins or self.members or self.domains or self.groups)

    def require_group(self, principal: str) -> None:
        """InvalidParameterValue if ``principal`` names a group that is not configured."""
        if principal.startswith(GROUP_PREFIX):
            group = principal.removeprefix(GROUP_PREFIX)
            if group not in self.groups:
                known = ", ".join(sorted(self.groups)) or "none"
                raise InvalidParameterValue(
                    f"Unknown group '{group}' (STRATUS_GROUPS configures: {known})."
                )

    def groups_of(self, username: str) -> frozenset[str]:
        return frozenset(name for name, users in self.groups.items() if username in users)

    def admits(self, username: str, *, registered: bool) -> bool:
        """A member: configured, in a configured domain or group, or a registered user."""
        if registered or username in self.admins or username in self.members:
            return True
        if "@" in username and username.rsplit("@", 1)[1] in self.domains:
            return True
        return any(username in users for users in self.groups.values())


@dataclass(frozen=True)
class Grants:
    """One principal's explicit permissions, resolved per resource, and the default."""

    explicit: Mapping[ResourceKind, Mapping[str, Permission]]
    default: Permission

    @classmethod
    def resolve(cls, username: str, grants: Iterable[Grant], default: Permission) -> Grants:
        """The user's own grant wins over their groups'; among groups the highest wins."""
        own: dict[ResourceKind, dict[str, Permission]] = {k: {} for k in ResourceKind}
        grouped: dict[ResourceKind, dict[str, Permission]] = {k: {} for k in ResourceKind}
        for grant in grants:
            permission = Permission[grant.permission]
            if grant.principal == username:
                own[grant.kind][grant.resource] = permission
            else:
                best = grouped[grant.kind].get(grant.resource, Permission.NO_PERMISSIONS)
                grouped[grant.kind][grant.resource] = max(best, permission, key=_rank)
        explicit = {kind: {**grouped[kind], **own[kind]} for kind in ResourceKind}
        return cls(explicit, default)

    def on(self, kind: ResourceKind, resource: str) -> Permission:
        return self.explicit[kind].get(resource, self.default)

    def visible(self, kind: ResourceKind) -> Visible | None:
        """The search filter for ``kind``: None when every resource is readable."""
        cast = int if kind is ResourceKind.EXPERIMENT else str
        explicit = self.explicit[kind]
        if self.default.can_read:
            hidden = frozenset(cast(r) for r, p in explicit.items() if not p.can_read)
            return Visible(hidden, exclude=True) if hidden else None
        shown = frozenset(cast(r) for r, p in explicit.items() if p.can_read)
        return Visible(shown, exclude=False)


@dataclass(frozen=True)
class Caller:
    """The principal behind a request and their resolved grants."""

    principal: Principal
    grants: Grants
    via: str
    """How they authenticated: google, iap, token, basic or session."""
    token_id: str | None = None
    """The access token behind the request (directly, or the one its session was opened
    with)."""
    fresh: bool = False
    """Whether ``grants`` were just read from the database (not from the cache)."""

    def permission(self, kind: ResourceKind, resource: str) -> Permission:
        return self.grants.on(kind, resource)

    def visible(self, kind: ResourceKind) -> Visible | None:
        return self.grants.visible(kind)


#: An admin's grants: MANAGE on everything, whatever is granted to them explicitly.
ADMIN_GRANTS = Grants({kind: {} for kind in ResourceKind}, Permission.MANAGE)


def _rank(permission: Permission) -> int:
    return permission.value
