"""Users, grants and access tokens as MLflow's auth plugin (and Stratus's token API) send
them."""

from __future__ import annotations

from typing import Any

from service.store.entities.auth import Grant, ResourceKind, TokenRecord, UserRecord

#: MLflow 2's names per kind of resource: the field that names the resource in requests
#: and answers, and the answer's field for one permission (for a list, the plural).
GRANT_FIELDS: dict[ResourceKind, tuple[str, str]] = {
    ResourceKind.EXPERIMENT: ("experiment_id", "experiment_permission"),
    ResourceKind.REGISTERED_MODEL: ("name", "registered_model_permission"),
}


def grant_json(grant: Grant) -> dict[str, str]:
    key, _ = GRANT_FIELDS[grant.kind]
    return {key: grant.resource, "username": grant.principal, "permission": grant.permission}


def user_json(user: UserRecord, grants: list[Grant] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": user.id, "username": user.username, "is_admin": user.is_admin}
    if grants is not None:
        for kind, (_, answer) in GRANT_FIELDS.items():
            body[f"{answer}s"] = [grant_json(g) for g in grants if g.kind is kind]
    return body


def token_json(record: TokenRecord) -> dict[str, Any]:
    return {
        "token_id": record.token_id,
        "username": record.username,
        "name": record.name,
        "creation_time": record.creation_time,
        "expiry_time": record.expiry_time,
        "revoked_time": record.revoked_time,
    }
