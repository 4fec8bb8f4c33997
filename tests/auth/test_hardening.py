"""The authorization holes of issue #16, each as an attack that must now fail.

In every case bob holds NO_PERMISSIONS on alice's experiment and on her registered model,
and the server's default permission is READ. Raw HTTP, because the attacks use fields the
mlflow client only sends in particular flows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.auth.conftest import ADMIN, AUDIENCE, GROUP_MEMBER, MEMBERS, OUTSIDER, AuthServer

API = "/api/2.0/mlflow"
ALICE, BOB = MEMBERS[0], MEMBERS[1]


@dataclass
class Scene:
    """Alice's experiment, run, logged model and registered model; bob's own run."""

    alice: httpx.Client
    bob: httpx.Client
    experiment_id: str
    run_id: str
    logged_model_id: str
    model: str
    bob_experiment_id: str
    bob_run_id: str


def _client(server: AuthServer, email: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30, headers=server.headers(email))


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def _denied_or_missing(response: httpx.Response) -> None:
    """A refusal that is not a server error (the exact shape is pinned where it matters)."""
    assert 400 <= response.status_code < 500, response.text
    assert {"error_code", "message"} <= set(response.json())


def _new_run(client: httpx.Client, experiment_id: str) -> str:
    body = {"experiment_id": experiment_id, "start_time": int(time.time() * 1000)}
    return _ok(client.post(f"{API}/runs/create", json=body))["run"]["info"]["run_id"]


@pytest.fixture
def scene(auth_server: AuthServer, unique: str) -> Iterator[Scene]:
    alice, bob = _client(auth_server, ALICE), _client(auth_server, BOB)
    experiment_id = _ok(alice.post(f"{API}/experiments/create", json={"name": f"a-{unique}"}))[
        "experiment_id"
    ]
    run_id = _new_run(alice, experiment_id)
    logged_model_id = _ok(
        alice.post(
            f"{API}/logged-models",
            json={"experiment_id": experiment_id, "name": "m", "source_run_id": run_id},
        )
    )["model"]["info"]["model_id"]
    model = f"alice-model-{unique}"
    _ok(alice.post(f"{API}/registered-models/create", json={"name": model}))
    for path, key in (("experiments", "experiment_id"), ("registered-models", "name")):
        resource = experiment_id if key == "experiment_id" else model
        _ok(
            alice.post(
                f"{API}/{path}/permissions/create",
                json={key: resource, "username": BOB, "permission": "NO_PERMISSIONS"},
            )
        )
    bob_experiment_id = _ok(bob.post(f"{API}/experiments/create", json={"name": f"b-{unique}"}))[
        "experiment_id"
    ]
    bob_run_id = _new_run(bob, bob_experiment_id)
    yield Scene(
        alice,
        bob,
        experiment_id,
        run_id,
        logged_model_id,
        model,
        bob_experiment_id,
        bob_run_id,
    )
    alice.close()
    bob.close()


def _model_metrics(scene: Scene) -> list[dict]:
    model = _ok(scene.alice.get(f"{API}/logged-models/{scene.logged_model_id}"))["model"]
    return model.get("data", {}).get("metrics", [])


# --- 1. model_id writes into another experiment's logged models --------------------------


def test_log_metric_cannot_write_to_another_experiments_logged_model(scene: Scene) -> None:
    metric = {"key": "acc", "value": 0.99, "timestamp": 1, "step": 0}
    response = scene.bob.post(
        f"{API}/runs/log-metric",
        json={"run_id": scene.bob_run_id, "model_id": scene.logged_model_id, **metric},
    )
    assert response.status_code == 404, response.text
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert _model_metrics(scene) == []


def test_log_batch_cannot_write_to_another_experiments_logged_model(scene: Scene) -> None:
    metric = {"key": "acc", "value": 0.99, "timestamp": 1, "step": 0}
    response = scene.bob.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": scene.bob_run_id,
            "metrics": [metric, {**metric, "key": "loss", "model_id": scene.logged_model_id}],
        },
    )
    assert response.status_code == 404, response.text
    assert _model_metrics(scene) == []
    # Atomic: the metric without a model_id was not written either.
    run = _ok(scene.bob.get(f"{API}/runs/get", params={"run_id": scene.bob_run_id}))["run"]
    assert "metrics" not in run["data"]


def test_missing_and_foreign_logged_models_answer_alike(scene: Scene) -> None:
    metric = {"run_id": scene.bob_run_id, "key": "k", "value": 1.0, "timestamp": 1}
    foreign = scene.bob.post(
        f"{API}/runs/log-metric", json={**metric, "model_id": scene.logged_model_id}
    )
    missing = scene.bob.post(f"{API}/runs/log-metric", json={**metric, "model_id": "m-missing"})
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error_code"] == missing.json()["error_code"]


def test_metrics_on_a_logged_model_of_the_runs_own_experiment_still_work(scene: Scene) -> None:
    metric = {"key": "acc", "value": 0.5, "timestamp": 1, "step": 0}
    _ok(
        scene.alice.post(
            f"{API}/runs/log-batch",
            json={
                "run_id": scene.run_id,
                "metrics": [{**metric, "model_id": scene.logged_model_id}],
            },
        )
    )
    _ok(
        scene.alice.post(
            f"{API}/runs/log-metric",
            json={"run_id": scene.run_id, "model_id": scene.logged_model_id, **metric, "step": 1},
        )
    )
    assert {m["key"] for m in _model_metrics(scene)} == {"acc"}


# --- 2. the registry read through model-versions/create ----------------------------------


def _register(client: httpx.Client, name: str, **fields: str) -> httpx.Response:
    return client.post(f"{API}/model-versions/create", json={"name": name, **fields})


@pytest.fixture
def registry_scene(scene: Scene, unique: str) -> Scene:
    """Alice's model has version 1 (alias ``prod``) from her run; bob has his own model."""
    _ok(
        _register(
            scene.alice,
            scene.model,
            source=f"runs:/{scene.run_id}/model",
            run_id=scene.run_id,
        )
    )
    _ok(
        scene.alice.post(
            f"{API}/registered-models/alias",
            json={"name": scene.model, "alias": "prod", "version": "1"},
        )
    )
    _ok(scene.bob.post(f"{API}/registered-models/create", json={"name": f"bob-model-{unique}"}))
    return scene


def _bob_model(scene: Scene) -> str:
    return scene.model.replace("alice-model-", "bob-model-")


def _bob_versions(scene: Scene) -> list[dict]:
    found = scene.bob.get(
        f"{API}/model-versions/search", params={"filter": f"name='{_bob_model(scene)}'"}
    )
    return _ok(found).get("model_versions", [])


@pytest.mark.parametrize(
    "source",
    [
        "models:/{model}@prod",
        "models:/{model}/1",
        "models:/{logged_model}",
        "runs:/{run}/model",
        "mlflow-artifacts:/{experiment}/{run}/artifacts/model",
    ],
)
def test_a_version_cannot_point_at_what_the_caller_may_not_read(
    registry_scene: Scene, source: str
) -> None:
    scene = registry_scene
    uri = source.format(
        model=scene.model,
        logged_model=scene.logged_model_id,
        run=scene.run_id,
        experiment=scene.experiment_id,
    )
    response = _register(scene.bob, _bob_model(scene), source=uri)
    assert response.status_code == 403, response.text
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert (
        scene.alice.get(
            f"{API}/model-versions/get-download-uri", params={"name": scene.model, "version": "1"}
        ).status_code
        == 200
    )
    assert _bob_versions(scene) == []


def test_a_version_cannot_name_another_experiments_run_or_logged_model(
    registry_scene: Scene,
) -> None:
    scene = registry_scene
    for fields in ({"run_id": scene.run_id}, {"model_id": scene.logged_model_id}):
        response = _register(scene.bob, _bob_model(scene), source="s3://bucket/m", **fields)
        assert response.status_code == 403, response.text
    assert _bob_versions(scene) == []
    model = _ok(scene.alice.get(f"{API}/logged-models/{scene.logged_model_id}"))["model"]
    tags = {t["key"] for t in model["info"].get("tags", [])}
    assert "mlflow.modelVersions" not in tags


def test_registry_sources_are_no_existence_oracle(registry_scene: Scene) -> None:
    scene = registry_scene
    answers = [
        _register(scene.bob, _bob_model(scene), source=source)
        for source in (
            f"models:/{scene.model}/1",
            f"models:/{scene.model}/99",
            f"models:/{scene.model}@nope",
            "models:/no-such-model/1",
            "models:/m-0123456789abcdef0123456789abcdef",
            "runs:/0123456789abcdef0123456789abcdef/model",
        )
    ]
    assert {(a.status_code, a.json()["error_code"]) for a in answers} == {
        (403, "PERMISSION_DENIED")
    }
    assert len({a.json()["message"].split("'")[0] for a in answers}) == 1


def test_a_deleted_run_of_someone_else_cannot_be_pinned(scene: Scene, unique: str) -> None:
    # Bob may read this experiment of alice's (the default READ), but not restore its runs.
    experiment_id = _ok(
        scene.alice.post(f"{API}/experiments/create", json={"name": f"open-{unique}"})
    )["experiment_id"]
    run_id = _new_run(scene.alice, experiment_id)
    _ok(scene.alice.post(f"{API}/runs/delete", json={"run_id": run_id}))
    model = f"bob-pin-{unique}"
    _ok(scene.bob.post(f"{API}/registered-models/create", json={"name": model}))
    response = _register(scene.bob, model, source=f"runs:/{run_id}/model")
    assert response.status_code == 403, response.text
    # Alice could restore it, so she may register it.
    _ok(
        scene.bob.post(
            f"{API}/registered-models/permissions/create",
            json={"name": model, "username": ALICE, "permission": "EDIT"},
        )
    )
    _ok(_register(scene.alice, model, source=f"runs:/{run_id}/model"))


def test_readable_sources_still_register(registry_scene: Scene) -> None:
    scene = registry_scene
    _ok(
        scene.alice.patch(
            f"{API}/registered-models/permissions/update",
            json={"name": scene.model, "username": BOB, "permission": "READ"},
        )
    )
    version = _ok(_register(scene.bob, _bob_model(scene), source=f"models:/{scene.model}@prod"))
    assert version["model_version"]["version"] == "1"
    own = _ok(_register(scene.bob, _bob_model(scene), source=f"runs:/{scene.bob_run_id}/m"))
    assert own["model_version"]["version"] == "2"


# --- 3. grants keyed by a model's name ---------------------------------------------------


def _get_model(client: httpx.Client, name: str) -> httpx.Response:
    return client.get(f"{API}/registered-models/get", params={"name": name})


def test_a_rename_never_widens_access(scene: Scene) -> None:
    assert _get_model(scene.bob, scene.model).status_code == 403  # bob's grants now cached
    _ok(_get_model(scene.alice, scene.model))  # and alice's
    renamed = f"{scene.model}-v2"
    _ok(
        scene.alice.post(
            f"{API}/registered-models/rename", json={"name": scene.model, "new_name": renamed}
        )
    )
    assert _get_model(scene.bob, renamed).status_code == 403
    # The owner keeps MANAGE under the new name at once.
    _ok(scene.alice.get(f"{API}/registered-models/permissions/list", params={"name": renamed}))
    effective = scene.bob.get(
        "/api/3.0/mlflow/users/permissions/get",
        params={"username": BOB, "resource_type": "registered_model", "resource_id": renamed},
    )
    assert _ok(effective)["permission"] == "NO_PERMISSIONS"


def test_a_deleted_models_grants_do_not_pass_to_a_new_model_of_that_name(
    scene: Scene, admin: httpx.Client
) -> None:
    _ok(_get_model(scene.alice, scene.model))  # alice's MANAGE is cached
    delete = {"name": scene.model}
    _ok(scene.alice.request("DELETE", f"{API}/registered-models/delete", json=delete))
    # A new model of the same name that alice has no grant on (imported by the admin).
    _ok(admin.post("/api/2.0/stratus/import/registered-models", json={"name": scene.model}))
    response = scene.alice.request("DELETE", f"{API}/registered-models/delete", json=delete)
    assert response.status_code == 403, response.text
    _ok(_get_model(admin, scene.model))


# --- 7. the creator's MANAGE grant ------------------------------------------------------


def test_the_creator_manages_at_once(scene: Scene, unique: str) -> None:
    experiment_id = _ok(
        scene.bob.post(f"{API}/experiments/create", json={"name": f"mine-{unique}"})
    )["experiment_id"]
    _ok(
        scene.bob.get(
            f"{API}/experiments/permissions/list", params={"experiment_id": experiment_id}
        )
    )
    model = f"mine-{unique}"
    _ok(scene.bob.post(f"{API}/registered-models/create", json={"name": model}))
    _ok(scene.bob.get(f"{API}/registered-models/permissions/list", params={"name": model}))


# --- 5. ID-token audiences come from configuration only ----------------------------------


@pytest.mark.parametrize("host", ["evil.example", "localhost:{port}"])
def test_the_audience_is_never_taken_from_the_request(
    auth_server: AuthServer, anonymous: httpx.Client, host: str
) -> None:
    """K_SERVICE is set (as on Cloud Run), yet the URL a request names (its Host, even one
    that reaches this very server) is no audience unless STRATUS_AUTH_AUDIENCES lists it."""
    host = host.format(port=auth_server.process.port)
    for scheme, forwarded in (("https", {"X-Forwarded-Proto": "https"}), ("http", {})):
        token = auth_server.google.id_token(ALICE, f"{scheme}://{host}")
        headers = {"Authorization": f"Bearer {token}", "Host": host, **forwarded}
        response = anonymous.get(f"{API}/experiments/search", headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error_code"] == "UNAUTHENTICATED"
    for audience in (AUDIENCE, auth_server.url):  # configured: accepted
        token = auth_server.google.id_token(ALICE, audience)
        response = anonymous.get(
            f"{API}/experiments/search", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text


# --- 6. sessions and tokens ----------------------------------------------------------


def _session_cookie(server: AuthServer, anonymous: httpx.Client, email: str) -> str:
    """Sign in on the page with a Google ID token; the session cookie's ``name=value``."""
    response = anonymous.post(
        "/auth/login",
        data={"token": server.token(email), "next": "/"},
        headers={"Origin": server.url},
    )
    assert response.status_code == 303, response.text
    return response.headers["set-cookie"].split(";", 1)[0]


def test_signing_out_ends_the_session_on_the_server(
    auth_server: AuthServer, anonymous: httpx.Client
) -> None:
    cookie = _session_cookie(auth_server, anonymous, ALICE)
    me = anonymous.get(f"{API}/users/current", headers={"Cookie": cookie})
    assert _ok(me)["user"]["username"] == ALICE
    out = anonymous.post("/auth/logout", headers={"Cookie": cookie, "Origin": auth_server.url})
    assert out.status_code == 303
    # The old cookie, replayed after sign-out, no longer works.
    replayed = anonymous.get(f"{API}/users/current", headers={"Cookie": cookie})
    assert replayed.status_code == 401, replayed.text


def test_a_token_cannot_mint_a_token_that_outlives_it(
    auth_server: AuthServer, anonymous: httpx.Client
) -> None:
    """A token made with a token is tied to it: no later expiry, revoked with it."""
    tokens = "/api/2.0/stratus/tokens"
    created = anonymous.post(
        f"{tokens}/create",
        json={"name": "parent", "expires_in_days": 7},
        headers=auth_server.headers(ALICE),
    )
    parent = _ok(created)
    as_parent = {"Authorization": f"Bearer {parent['token']}"}
    child = _ok(
        anonymous.post(
            f"{tokens}/create", json={"name": "child", "expires_in_days": 366}, headers=as_parent
        )
    )
    grandchild = _ok(
        anonymous.post(
            f"{tokens}/create",
            json={"name": "grandchild"},
            headers={"Authorization": f"Bearer {child['token']}"},
        )
    )
    parent_expiry = parent["access_token"]["expiry_time"]
    assert child["access_token"]["expiry_time"] <= parent_expiry
    assert grandchild["access_token"]["expiry_time"] <= parent_expiry
    _ok(
        anonymous.post(
            f"{tokens}/revoke",
            json={"token_id": parent["access_token"]["token_id"]},
            headers=auth_server.headers(ALICE),
        )
    )
    for secret in (child["token"], grandchild["token"]):
        response = anonymous.get(
            f"{API}/experiments/search", headers={"Authorization": f"Bearer {secret}"}
        )
        assert response.status_code == 401, response.text


def test_an_id_token_without_email_verified_is_unverified(
    auth_server: AuthServer, anonymous: httpx.Client
) -> None:
    token = auth_server.google.id_token(ALICE, AUDIENCE, email_verified=None)
    response = anonymous.get(
        f"{API}/experiments/search", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401, response.text


def test_group_names_are_checked_and_normalised(scene: Scene, auth_server: AuthServer) -> None:
    grant = {"experiment_id": scene.bob_experiment_id, "permission": "NO_PERMISSIONS"}
    typo = scene.bob.post(
        f"{API}/experiments/permissions/create", json={**grant, "username": "group:visoin"}
    )
    assert typo.status_code == 400, typo.text
    assert typo.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    _ok(
        scene.bob.post(
            f"{API}/experiments/permissions/create", json={**grant, "username": "group:Vision"}
        )
    )
    with _client(auth_server, GROUP_MEMBER) as frank:
        response = frank.get(
            f"{API}/experiments/get", params={"experiment_id": scene.bob_experiment_id}
        )
    assert response.status_code == 403, response.text


# --- 8. smaller leaks ----------------------------------------------------------------


def test_outsiders_learn_nothing_from_names(scene: Scene, auth_server: AuthServer) -> None:
    """Members may tell a hidden name from a missing one (403 vs 404, docs/auth.md);
    someone off the team gets the same refusal for both."""
    with _client(auth_server, OUTSIDER) as outsider:
        answers = [_get_model(outsider, name) for name in (scene.model, f"{scene.model}-missing")]
    first, second = answers
    assert (first.status_code, first.json()) == (second.status_code, second.json())
    assert answers[0].status_code == 403


def test_effective_permissions_do_not_reveal_members_or_admins(scene: Scene) -> None:
    def asked(username: str) -> dict:
        return _ok(
            scene.alice.get(
                "/api/3.0/mlflow/users/permissions/get",
                params={
                    "username": username,
                    "resource_type": "experiment",
                    "resource_id": scene.experiment_id,
                },
            )
        )

    member, outsider, admin = asked(MEMBERS[3]), asked(OUTSIDER), asked(ADMIN)
    assert member == outsider == admin == {"allowed": False, "permission": "READ"}
    assert asked(BOB)["permission"] == "NO_PERMISSIONS"
    mine = scene.alice.get(
        "/api/3.0/mlflow/users/permissions/get",
        params={
            "username": ALICE,
            "resource_type": "experiment",
            "resource_id": scene.experiment_id,
        },
    )
    assert _ok(mine)["permission"] == "MANAGE"


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc",
        "/etc/passwd",
        "http://169.254.169.254/computeMetadata/v1",
        "gs://another-teams-bucket/models",
        "mlflow-artifacts:/../../etc",
        "{root}",
        "{root}/../elsewhere",
    ],
)
def test_an_artifact_location_stays_under_the_artifact_root(
    scene: Scene, auth_server: AuthServer, unique: str, location: str
) -> None:
    root = auth_server.process.artifact_root
    response = scene.bob.post(
        f"{API}/experiments/create",
        json={"name": f"loc-{unique}", "artifact_location": location.format(root=root)},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_artifact_locations_under_the_root_are_accepted(
    scene: Scene, auth_server: AuthServer, unique: str
) -> None:
    root = auth_server.process.artifact_root
    for n, location in enumerate(
        ["mlflow-artifacts:/shared/team", f"{root}/team-a", f"file://{root}/team-b"]
    ):
        created = scene.bob.post(
            f"{API}/experiments/create",
            json={"name": f"loc-{unique}-{n}", "artifact_location": location},
        )
        _ok(created)
