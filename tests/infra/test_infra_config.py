"""Config: the code, Pulumi.example.yaml and docs/infra-config.md name the same keys, and
bad values are refused before anything is planned."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("pulumi")
yaml = pytest.importorskip("yaml")

import infra_mocks  # noqa: E402
from infra_mocks import REPO_ROOT, config_for  # noqa: E402

from infra.config import ConfigReader, StackConfig, load_config  # noqa: E402
from infra.errors import StackConfigError  # noqa: E402

EXAMPLE = REPO_ROOT / "Pulumi.example.yaml"
DOC = REPO_ROOT / "docs" / "infra-config.md"


def example_config() -> dict[str, object]:
    return yaml.safe_load(EXAMPLE.read_text())["config"]


def example_keys() -> set[str]:
    """Keys set in the example, plus the optional ones shown commented out."""
    commented = re.findall(r"^\s*#\s*(stratus:\w+):", EXAMPLE.read_text(), re.MULTILINE)
    return set(example_config()) | set(commented)


def keys_read_by_the_program() -> set[str]:
    infra_mocks.install()
    reader = ConfigReader()
    load_config(reader)
    return {"gcp:project", "gcp:region"} | {f"stratus:{key}" for key in reader.keys_read}


def test_example_lists_every_key_and_no_other():
    assert example_keys() == keys_read_by_the_program()


def test_docs_describe_every_key_and_no_other():
    documented = set(re.findall(r"^\| `((?:stratus|gcp):\w+)` \|", DOC.read_text(), re.MULTILINE))
    assert documented == keys_read_by_the_program()


def test_example_values_are_the_defaults():
    raw = example_config()
    members = raw.pop("stratus:members")
    config = {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in raw.items()
    }
    infra_mocks.install({**config, "stratus:members": json.dumps(members)})
    loaded = load_config()
    expected = StackConfig(
        project=raw["gcp:project"], region=raw["gcp:region"], members=tuple(members)
    )
    assert loaded == expected


def test_defaults_need_only_project_and_region():
    infra_mocks.install({"stratus:members": "[]"})
    cfg = load_config()
    assert cfg.project == infra_mocks.PROJECT and cfg.region == infra_mocks.REGION
    assert cfg.members == () and cfg.image is None and cfg.is_postgres


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"image": "europe-west1-docker.pkg.dev/p/r/stratus:latest"}, "pinned by digest"),
        ({"members": ["alice@example.com"]}, "must start with one of"),
        ({"dbSslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}, "stratus:dbSslMode"),
        ({"dbVersion": "SQLSERVER_2022_STANDARD"}, "stratus:dbVersion"),
        ({"privateNetwork": "projects/p/global/networks/n"}, "stratus:privateSubnetwork"),
        ({"minInstances": 5, "maxInstances": 2}, "stratus:minInstances"),
        ({"logLevel": "verbose"}, "stratus:logLevel"),
        ({"serviceName": "Stratus_Prod"}, "stratus:serviceName"),
        ({"dbPoolSize": 0}, "stratus:dbPoolSize"),
        ({"bucketSoftDeleteDays": 3}, "stratus:bucketSoftDeleteDays"),
        ({"access": "public"}, "stratus:access"),
        ({"members": ["group:ml@example.com"]}, "cannot read Google Groups"),
        ({"admins": ["user:lead@example.com"]}, "stratus:admins entry"),
        ({"defaultPermission": "USE"}, "stratus:defaultPermission"),
        ({"access": "iam", "admins": ["a@example.com"]}, "stratus:admins needs"),
        ({"access": "iam", "oauthClientId": "x.apps"}, "stratus:oauthClientId needs"),
        ({"iapAudience": "stratus"}, "stratus:iapAudience"),
        ({"groups": {"vision": "a@example.com"}}, "stratus:groups"),
        # Cloud SQL would refuse these only at apply time, after the preview looked fine.
        (
            {"dbPitrDays": 8, "dbBackupsRetained": 30},
            "stratus:dbPitrDays must be 1-7 on ENTERPRISE ",
        ),
        ({"dbPitrDays": 7, "dbBackupsRetained": 7}, "stratus:dbBackupsRetained (7) must be above"),
        ({"dbPitrDays": 3, "dbBackupsRetained": 2}, "stratus:dbBackupsRetained (2) must be above"),
        (
            {"dbEdition": "ENTERPRISE_PLUS"},
            "stratus:dbTier 'db-custom-1-3840' is not offered by stratus:dbEdition",
        ),
        (
            {"dbEdition": "ENTERPRISE_PLUS", "dbTier": "db-perf-optimized-N-3"},
            "is not offered by stratus:dbEdition ENTERPRISE_PLUS",
        ),
        ({"dbTier": "db-perf-optimized-N-2"}, "needs stratus:dbEdition ENTERPRISE_PLUS"),
        (
            {
                "dbVersion": "MYSQL_8_0",
                "dbEdition": "ENTERPRISE_PLUS",
                "dbTier": "db-perf-optimized-N-2",
                "dbPitrDays": 14,
                "dbBackupsRetained": 30,
            },
            "stratus:dbPitrDays must be 1-7 on ENTERPRISE_PLUS (MYSQL_8_0)",
        ),
    ],
)
def test_bad_values_are_refused_with_the_key_named(overrides, message):
    infra_mocks.install(config_for(**overrides))
    with pytest.raises(StackConfigError, match=re.escape(message)):
        load_config()


def test_several_problems_are_reported_together():
    infra_mocks.install(config_for(dbSslMode="NONE", logLevel="loud"))
    with pytest.raises(StackConfigError) as caught:
        load_config()
    assert "stratus:dbSslMode" in str(caught.value) and "stratus:logLevel" in str(caught.value)


def test_enterprise_plus_with_its_tier_and_long_pitr_is_accepted():
    infra_mocks.install(
        config_for(
            dbEdition="enterprise_plus",
            dbTier="db-perf-optimized-N-2",
            dbPitrDays=35,
            dbBackupsRetained=36,
        )
    )
    cfg = load_config()
    assert (cfg.db_edition, cfg.db_pitr_days, cfg.db_backups_retained) == (
        "ENTERPRISE_PLUS",
        35,
        36,
    )
