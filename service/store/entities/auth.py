"""The access-control records: users, tokens, browser sessions, grants."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ResourceKind(Enum):
    """What a grant is on; the value is MLflow's ``resource_type``."""

    EXPERIMENT = "experiment"
    REGISTERED_MODEL = "registered_model"


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    is_admin: bool
    has_password: bool
    creation_time: int


@dataclass(frozen=True, slots=True)
class TokenRecord:
    token_id: str
    username: str
    name: str
    creation_time: int
    expiry_time: int
    revoked_time: int | None
    parent_token_id: str | None = None

    def is_active(self, now: int) -> bool:
        return self.revoked_time is None and now < self.expiry_time


@dataclass(frozen=True, slots=True)
class SessionRecord:
    session_id: str
    username: str
    via: str
    token_id: str | None
    expiry_time: int
    revoked_time: int | None

    def is_active(self, now: int) -> bool:
        return self.revoked_time is None and now < self.expiry_time


@dataclass(frozen=True, slots=True)
class Grant:
    kind: ResourceKind
    resource: str
    """The experiment id (as a string) or the registered model's name."""
    principal: str
    permission: str


@dataclass(frozen=True, slots=True)
class RunState:
    experiment_id: int
    deleted: bool
