"""service/http/auth.py in-process: users, grants and access tokens, with auth on."""

from __future__ import annotations

import base64
import uuid

from starlette.testclient import TestClient

from tests.service.http.conftest import ADMIN, GROUP
from tests.support.in_process import assert_error, new_experiment

API = "/api/2.0/mlflow"
V3 = "/api/3.0/mlflow"
TOKENS = "/api/2.0/stratus/tokens"
PASSWORD = "correct horse battery"


def _member(auth_api: TestClient, admin: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A new member with a password, and their basic credentials."""
    username = f"member-{uuid.uuid4().hex[:8]}@example.com"
    created = auth_api.post(
        f"{API}/users/create", json={"username": username, "password": PASSWORD}, headers=admin
    )
    assert created.status_code == 200, created.text
    basic = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    return username, {"Authorization": f"Basic {basic}"}


def test_current_user_says_who_and_how(auth_api: TestClient, admin_headers: dict[str, str]) -> None:
    assert_error(auth_api.get(f"{API}/users/current"), 401, "UNAUTHENTICATED")
    admin = auth_api.get(f"{API}/users/current", headers=admin_headers).json()
    # The admin comes from configuration: no user row, so no id.
    assert admin == {
        "user": {"username": ADMIN, "is_admin": True, "groups": []},
        "is_basic_auth": False,
        "auth_method": "token",
    }
    username, basic = _member(auth_api, admin_headers)
    member = auth_api.get(f"{API}/users/current", headers=basic).json()
    assert member["user"]["username"] == username and member["user"]["is_admin"] is False
    assert isinstance(member["user"]["id"], int)
    assert member["is_basic_auth"] is True and member["auth_method"] == "basic"


def test_create_user_answers_mlflows_user_and_refuses_a_duplicate(
    auth_api: TestClient,
    admin_headers: dict[str, str],
) -> None:
    username = f"New-{uuid.uuid4().hex[:8]}@Example.com"
    created = auth_api.post(
        f"{API}/users/create",
        json={"username": username, "password": PASSWORD},
        headers=admin_headers,
    )
    assert created.status_code == 200, created.text
    user = created.json()["user"]
    # What mlflow's AuthServiceClient reads (User.from_json): id, username, is_admin.
    assert user["username"] == username.lower() and user["is_admin"] is False
    assert isinstance(user["id"], int)
    again = auth_api.post(
        f"{API}/users/create", json={"username": username.lower()}, headers=admin_headers
    )
    assert_error(again, 400, "RESOURCE_ALREADY_EXISTS")
    short = auth_api.post(
        f"{API}/users/create",
        json={"username": f"short-{uuid.uuid4().hex[:8]}", "password": "1234567"},
        headers=admin_headers,
    )
    assert_error(short, 400, "INVALID_PARAMETER_VALUE")


def test_a_member_sees_only_themselves(auth_api: TestClient, admin_headers: dict[str, str]) -> None:
    username, basic = _member(auth_api, admin_headers)
    other, _ = _member(auth_api, admin_headers)
    own = auth_api.get(f"{API}/users/get", params={"username": username}, headers=basic)
    assert own.status_code == 200
    assert own.json()["user"]["username"] == username
    theirs = auth_api.get(f"{API}/users/get", params={"username": other}, headers=basic)
    assert_error(theirs, 403, "PERMISSION_DENIED")
    assert_error(auth_api.get(f"{API}/users/list", headers=basic), 403, "PERMISSION_DENIED")
    listed = auth_api.get(f"{API}/users/list", headers=admin_headers).json()["users"]
    assert {username, other} <= {u["username"] for u in listed}
    missing = auth_api.get(
        f"{API}/users/get", params={"username": "nobody@example.com"}, headers=admin_headers
    )
    assert_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")


def test_changing_your_own_password_needs_the_current_one(
    auth_api: TestClient,
    admin_headers: dict[str, str],
) -> None:
    username, basic = _member(auth_api, admin_headers)
    change = {"username": username, "password": "a brand new password"}
    refused = auth_api.patch(
        f"{API}/users/update-password",
        json={**change, "current_password": "wrong password"},
        headers=basic,
    )
    assert_error(refused, 403, "PERMISSION_DENIED")
    changed = auth_api.patch(
        f"{API}/users/update-password", json={**change, "current_password": PASSWORD}, headers=basic
    )
    assert changed.status_code == 200 and changed.json() == {}
    assert_error(auth_api.get(f"{API}/users/current", headers=basic), 401, "UNAUTHENTICATED")


def test_experiment_permissions_in_mlflow_2_shape(
    auth_api: TestClient, admin_headers: dict[str, str]
) -> None:
    username, basic = _member(auth_api, admin_headers)
    experiment_id = new_experiment(auth_api, admin_headers)
    base = f"{API}/experiments/permissions"
    grant = {"experiment_id": experiment_id, "username": username, "permission": "edit"}
    created = auth_api.post(f"{base}/create", json=grant, headers=admin_headers)
    assert created.status_code == 200, created.text
    expected = {"experiment_id": experiment_id, "username": username, "permission": "EDIT"}
    assert created.json() == {"experiment_permission": expected}
    ref = {"experiment_id": experiment_id, "username": username}
    assert auth_api.get(f"{base}/get", params=ref, headers=admin_headers).json() == {
        "experiment_permission": expected
    }
    listed = auth_api.get(
        f"{base}/list", params={"experiment_id": experiment_id}, headers=admin_headers
    )
    # The creator holds MANAGE, as in MLflow.
    creator = {"experiment_id": experiment_id, "username": ADMIN, "permission": "MANAGE"}
    assert listed.json() == {"experiment_permissions": [creator, expected]}
    # EDIT is not MANAGE: the member cannot read the grants.
    assert_error(auth_api.get(f"{base}/get", params=ref, headers=basic), 403, "PERMISSION_DENIED")
    updated = auth_api.patch(
        f"{base}/update", json={**grant, "permission": "READ"}, headers=admin_headers
    )
    assert updated.status_code == 200 and updated.json() == {}
    bad = auth_api.patch(
        f"{base}/update", json={**grant, "permission": "OWNER"}, headers=admin_headers
    )
    assert_error(bad, 400, "INVALID_PARAMETER_VALUE")
    assert (
        auth_api.request("DELETE", f"{base}/delete", json=ref, headers=admin_headers).json() == {}
    )
    assert_error(
        auth_api.get(f"{base}/get", params=ref, headers=admin_headers),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    unknown_group = {**grant, "username": "group:nobody"}
    assert_error(
        auth_api.post(f"{base}/create", json=unknown_group, headers=admin_headers),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_mlflow_3_grant_revoke_and_effective_permission(
    auth_api: TestClient,
    admin_headers: dict[str, str],
) -> None:
    username, basic = _member(auth_api, admin_headers)
    experiment_id = new_experiment(auth_api, admin_headers)
    resource = {"resource_type": "experiment", "resource_id": experiment_id}
    mine = {"username": username, **resource}
    # The default for a member without a grant is READ: not "allowed" (MLflow's can_use).
    before = auth_api.get(f"{V3}/users/permissions/get", params=mine, headers=basic).json()
    assert before == {"allowed": False, "permission": "READ"}
    granted = auth_api.post(
        f"{V3}/users/permissions/grant", json={**mine, "permission": "EDIT"}, headers=admin_headers
    )
    assert granted.status_code == 200 and granted.json() == {}
    after = auth_api.get(f"{V3}/users/permissions/get", params=mine, headers=basic).json()
    assert after == {"allowed": True, "permission": "EDIT"}
    # Granting needs MANAGE; asking about someone else too.
    group_grant = {"username": f"group:{GROUP}", **resource, "permission": "READ"}
    assert_error(
        auth_api.post(f"{V3}/users/permissions/grant", json=group_grant, headers=basic),
        403,
        "PERMISSION_DENIED",
    )
    about_admin = {"username": ADMIN, **resource}
    assert_error(
        auth_api.get(f"{V3}/users/permissions/get", params=about_admin, headers=basic),
        403,
        "PERMISSION_DENIED",
    )
    wrong_kind = {**mine, "resource_type": "dashboard"}
    assert_error(
        auth_api.get(f"{V3}/users/permissions/get", params=wrong_kind, headers=admin_headers),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    revoked = auth_api.post(f"{V3}/users/permissions/revoke", json=mine, headers=admin_headers)
    assert revoked.status_code == 200
    assert auth_api.get(f"{V3}/users/permissions/get", params=mine, headers=basic).json() == before


def test_tokens_are_shown_once_listed_without_secret_and_revocable(
    auth_api: TestClient,
    admin_headers: dict[str, str],
) -> None:
    username, basic = _member(auth_api, admin_headers)
    created = auth_api.post(
        f"{TOKENS}/create", json={"name": "ci", "expires_in_days": 7}, headers=basic
    )
    assert created.status_code == 200, created.text
    body = created.json()
    secret, record = body["token"], body["access_token"]
    assert record["username"] == username and record["name"] == "ci"
    # Seven days from creation, give or take the clock reads between the two times.
    assert abs(record["expiry_time"] - record["creation_time"] - 7 * 86_400_000) < 1_000
    bearer = {"Authorization": f"Bearer {secret}"}
    current = auth_api.get(f"{API}/users/current", headers=bearer).json()
    assert current["user"]["username"] == username and current["auth_method"] == "token"
    listed = auth_api.get(f"{TOKENS}/list", headers=basic).json()["access_tokens"]
    assert [t["token_id"] for t in listed] == [record["token_id"]]
    assert secret not in str(listed)
    # Another member's token is not theirs to revoke; an admin may.
    _, stranger = _member(auth_api, admin_headers)
    revoke = {"token_id": record["token_id"]}
    assert_error(
        auth_api.post(f"{TOKENS}/revoke", json=revoke, headers=stranger), 403, "PERMISSION_DENIED"
    )
    assert auth_api.post(f"{TOKENS}/revoke", json=revoke, headers=admin_headers).json() == {}
    assert_error(auth_api.get(f"{API}/users/current", headers=bearer), 401, "UNAUTHENTICATED")
    no_lifetime = auth_api.post(f"{TOKENS}/create", json={"expires_in_days": 0}, headers=basic)
    assert_error(no_lifetime, 400, "INVALID_PARAMETER_VALUE")
    for_other = auth_api.post(f"{TOKENS}/create", json={"username": ADMIN}, headers=basic)
    assert_error(for_other, 403, "PERMISSION_DENIED")
