"""The connection budget: the program refuses, at preview, configs that exhaust Cloud SQL."""

from __future__ import annotations

import pytest

pytest.importorskip("pulumi")
pytest.importorskip("pulumi_gcp")

import infra_mocks
from infra_mocks import config_for

from infra.budget import check_connection_budget, default_max_connections
from infra.config import StackConfig
from infra.errors import ConnectionBudgetError

INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"


@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        ("db-f1-micro", 25),
        ("db-g1-small", 50),
        ("db-custom-1-3840", 100),
        ("db-custom-2-7680", 400),
        ("db-custom-4-15360", 500),
        ("db-n1-standard-1", 100),
        ("db-n1-highmem-8", 600),
        ("db-perf-optimized-N-2", None),
    ],
)
def test_postgres_defaults_by_tier(tier, expected):
    assert default_max_connections(tier, postgres=True) == expected


def test_mysql_defaults_by_tier():
    assert default_max_connections("db-f1-micro", postgres=False) == 250
    assert default_max_connections("db-custom-1-3840", postgres=False) == 4000


def cfg(**overrides):
    return StackConfig(project="p", region="europe-west1", **overrides)


def test_the_defaults_fit_and_the_boundary_is_inclusive():
    assert check_connection_budget(cfg()) == 100
    assert check_connection_budget(cfg(max_instances=9)) == 100  # 9 x 10 = 100 - 10
    with pytest.raises(ConnectionBudgetError):
        check_connection_budget(cfg(max_instances=10))


def test_message_names_every_knob():
    with pytest.raises(ConnectionBudgetError) as caught:
        check_connection_budget(cfg(db_tier="db-f1-micro"))
    message = str(caught.value)
    assert "4 instances" in message and "= 40" in message and "= 15" in message
    for knob in (
        "stratus:maxInstances",
        "stratus:dbPoolSize",
        "stratus:dbMaxOverflow",
        "stratus:dbTier",
        "stratus:dbMaxConnections",
        "stratus:dbReservedConnections",
    ):
        assert knob in message
    assert "lower stratus:maxInstances to 1" in message


def test_unknown_tier_asks_for_an_explicit_limit():
    with pytest.raises(ConnectionBudgetError, match="stratus:dbMaxConnections"):
        check_connection_budget(cfg(db_tier="db-perf-optimized-N-2"))


def test_real_program_fails_before_creating_anything():
    graph = infra_mocks.install(config_for(dbTier="db-f1-micro"))
    with pytest.raises(ConnectionBudgetError, match="Connection budget exceeded"):
        infra_mocks.build(graph, infra_mocks.run_main)
    assert graph.resources == []


def test_real_program_fails_at_preview():
    graph = infra_mocks.install(config_for(maxInstances=50), preview=True)
    with pytest.raises(ConnectionBudgetError, match=r"50 instances \(stratus:maxInstances\)"):
        infra_mocks.build(graph, infra_mocks.run_main)
    assert graph.resources == []


def test_explicit_limit_passes_and_is_applied_to_the_instance(program):
    graph = program(config_for(dbTier="db-f1-micro", dbMaxConnections=60))
    flags = graph.one(INSTANCE).inputs["settings"]["databaseFlags"]
    assert {"name": "max_connections", "value": "60"} in flags
