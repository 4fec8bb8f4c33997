"""The Cloud Run environment matches what service/ actually reads, so the two cannot drift."""

from __future__ import annotations

import pytest

pytest.importorskip("pulumi")
pytest.importorskip("pulumi_gcp")
config_module = pytest.importorskip("service.config")

from pydantic import AliasChoices, AliasPath  # noqa: E402

REQUIRED = {
    "STRATUS_DATABASE_URL",
    "STRATUS_ARTIFACT_ROOT",
    "STRATUS_CLOUD_SQL_INSTANCE",
    "STRATUS_HOST",
    "STRATUS_LOG_FORMAT",
}


def settings_env_names() -> set[str]:
    """Every variable name service.config.Settings reads: prefix + field, plus aliases."""
    settings = config_module.Settings
    prefix = settings.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, info in settings.model_fields.items():
        alias = info.validation_alias or info.alias
        if alias is None:
            names.add(f"{prefix}{field_name}".upper())
        elif isinstance(alias, AliasChoices):
            names |= {c.upper() for c in alias.choices if not isinstance(c, AliasPath)}
        elif isinstance(alias, str):
            names.add(alias.upper())
    return names


def test_contract_names_are_derived_from_settings():
    names = settings_env_names()
    assert names >= REQUIRED
    assert "PORT" in names  # the alias Cloud Run sets


def test_every_container_variable_is_read_by_the_service(default_graph):
    env = {**default_graph.env(), **default_graph.secret_env()}
    unknown = set(env) - settings_env_names()
    assert not unknown, f"Cloud Run sets variables service/config.py never reads: {unknown}"


def test_required_variables_are_set(default_graph):
    env = default_graph.env()
    assert set(env) >= REQUIRED
    assert env["STRATUS_HOST"] == "0.0.0.0"
    assert env["STRATUS_LOG_FORMAT"] == "json"
    assert "PORT" not in env and "STRATUS_PORT" not in env  # Cloud Run sets PORT itself


def test_values_are_accepted_by_settings(default_graph, monkeypatch):
    """The deployed values validate against Settings, exactly as the container would load them."""
    for name, value in default_graph.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PORT", "8080")
    settings = config_module.Settings()
    assert settings.cloud_sql_instance.count(":") == 2
    assert settings.artifact_root.startswith("gs://")
    assert settings.port == 8080
    assert settings.db_pool_size == 10 and settings.db_max_overflow == 0


def test_database_url_names_the_iam_user_and_no_password(default_graph):
    sqlalchemy_url = pytest.importorskip("sqlalchemy.engine").make_url
    url = sqlalchemy_url(default_graph.env()["STRATUS_DATABASE_URL"])
    assert url.drivername == "postgresql+psycopg"
    assert (
        url.username == default_graph.named("gcp:sql/user:User", "stratus-iam-user").inputs["name"]
    )
    assert url.username == "stratus-run@test-project.iam"
    assert url.password is None and url.host is None
    assert url.database == "stratus"


def test_audiences_are_the_deterministic_url_and_the_gcloud_clients(program):
    """The server takes its accepted ID-token audiences from here, never from a request's
    Host header: the service's deterministic URL, which is also the URL researchers get."""
    from infra_mocks import PROJECT_NUMBER, REGION, config_for

    graph = program(config_for(oauthClientId="1234-web.apps.googleusercontent.com"))
    url = f"https://stratus-{PROJECT_NUMBER}.{REGION}.run.app"
    audiences = graph.env()["STRATUS_AUTH_AUDIENCES"].split(",")
    assert audiences == [
        url,
        config_module.GCLOUD_ADC_CLIENT_ID,
        config_module.GCLOUD_CLI_CLIENT_ID,
        "1234-web.apps.googleusercontent.com",
    ]
    assert graph.exports["service_url"] == url
    assert graph.exports["mlflow_tracking_uri"] == f"export MLFLOW_TRACKING_URI={url}"


def test_forwarded_headers_are_trusted_from_cloud_runs_front_end_only(default_graph, program):
    assert default_graph.env()["STRATUS_FORWARDED_ALLOW_IPS"] == "*"
    from infra_mocks import config_for

    graph = program(config_for(forwardedAllowIps="10.0.0.0/8"))
    assert graph.env()["STRATUS_FORWARDED_ALLOW_IPS"] == "10.0.0.0/8"


def test_startup_wait_fits_inside_the_startup_probe(default_graph):
    probe = default_graph.container()["startupProbe"]
    budget = probe["periodSeconds"] * probe["failureThreshold"]
    assert budget <= 240  # Cloud Run's ceiling for a start-up probe
    wait = int(default_graph.env()["STRATUS_DB_STARTUP_WAIT_SECONDS"])
    assert 60 <= wait <= budget - 60  # a minute of IAM propagation, a minute for migrations


def test_the_grant_jobs_variables_are_read_by_the_service(default_graph):
    job = default_graph.one("gcp:cloudrunv2/job:Job")
    names = {e["name"] for e in job.inputs["template"]["template"]["containers"][0]["envs"]}
    assert names <= settings_env_names()
