"""The connection budget: Cloud Run's worst case must fit in the database's max_connections.

Each Cloud Run instance holds a SQLAlchemy pool of ``pool_size + max_overflow`` connections,
so a burst that scales the service to ``max_instances`` can open
``max_instances * (pool_size + max_overflow)`` connections. If that exceeds the database's
``max_connections`` the newest instances fail with "remaining connection slots are reserved"
(see mlflow#19379). The program checks this before planning any resource.

Default ``max_connections`` per tier, from the public Cloud SQL "Quotas and limits" pages as
read in 2026 (PostgreSQL: by instance memory; MySQL: by machine type). They are an
assumption: Google may change them, and a tier not covered here needs an explicit
``stratus:dbMaxConnections``, which is then also set as the ``max_connections`` flag on the
instance, so the number checked is the number configured.
"""

from __future__ import annotations

import re

from infra.config import StackConfig
from infra.errors import ConnectionBudgetError

#: PostgreSQL: (minimum memory in GiB, default max_connections), ascending.
PG_MAX_CONNECTIONS_BY_MEMORY_GIB: tuple[tuple[float, int], ...] = (
    (0.6, 25),  # db-f1-micro
    (1.7, 50),  # db-g1-small
    (3.75, 100),
    (6.0, 200),
    (7.5, 400),
    (15.0, 500),
    (30.0, 600),
    (60.0, 800),
    (120.0, 1000),
)

#: MySQL: shared-core tiers have their own defaults; every other tier gets 4,000.
MYSQL_MAX_CONNECTIONS = {"db-f1-micro": 250, "db-g1-small": 1000}
MYSQL_DEFAULT_MAX_CONNECTIONS = 4000

_SHARED_CORE_MEMORY_GIB = {"db-f1-micro": 0.6, "db-g1-small": 1.7}
_CUSTOM = re.compile(r"^db-custom-(\d+)-(\d+)$")
_N1 = re.compile(r"^db-n1-(standard|highmem)-(\d+)$")
_N1_GIB_PER_VCPU = {"standard": 3.75, "highmem": 6.5}


def tier_memory_gib(tier: str) -> float | None:
    """The memory of a Cloud SQL tier in GiB, or None for a tier this table does not know."""
    if tier in _SHARED_CORE_MEMORY_GIB:
        return _SHARED_CORE_MEMORY_GIB[tier]
    if match := _CUSTOM.match(tier):
        return int(match.group(2)) / 1024
    if match := _N1.match(tier):
        return _N1_GIB_PER_VCPU[match.group(1)] * int(match.group(2))
    return None


def default_max_connections(tier: str, *, postgres: bool) -> int | None:
    """Cloud SQL's default ``max_connections`` for a tier, or None if unknown."""
    if not postgres:
        return MYSQL_MAX_CONNECTIONS.get(tier, MYSQL_DEFAULT_MAX_CONNECTIONS)
    memory = tier_memory_gib(tier)
    if memory is None:
        return None
    allowed = None
    for min_memory, connections in PG_MAX_CONNECTIONS_BY_MEMORY_GIB:
        if memory + 1e-9 >= min_memory:
            allowed = connections
    return allowed or PG_MAX_CONNECTIONS_BY_MEMORY_GIB[0][1]


def check_connection_budget(cfg: StackConfig) -> int:
    """Raise ConnectionBudgetError unless the worst case fits; return the max_connections used."""
    max_connections = cfg.db_max_connections or default_max_connections(
        cfg.db_tier, postgres=cfg.is_postgres
    )
    if max_connections is None:
        raise ConnectionBudgetError(
            f"Unknown max_connections for Cloud SQL tier {cfg.db_tier!r}. Set "
            "stratus:dbMaxConnections to the limit you want (it is also applied to the "
            "instance as the max_connections flag)."
        )
    per_instance = cfg.db_pool_size + cfg.db_max_overflow
    demand = cfg.max_instances * per_instance
    available = max_connections - cfg.db_reserved_connections
    if demand > available:
        fitting = available // per_instance
        lower_instances = f"lower stratus:maxInstances to {fitting}, " if fitting >= 1 else ""
        raise ConnectionBudgetError(
            "Connection budget exceeded: Cloud Run can scale to "
            f"{cfg.max_instances} instances (stratus:maxInstances) x {per_instance} connections "
            f"each (stratus:dbPoolSize {cfg.db_pool_size} + stratus:dbMaxOverflow "
            f"{cfg.db_max_overflow}) = {demand}, but tier {cfg.db_tier} (stratus:dbTier) allows "
            f"{max_connections} (stratus:dbMaxConnections) minus {cfg.db_reserved_connections} "
            f"reserved (stratus:dbReservedConnections) = {available}. Fix one of: "
            f"{lower_instances}lower stratus:dbPoolSize/stratus:dbMaxOverflow, "
            "choose a larger stratus:dbTier, or raise stratus:dbMaxConnections."
        )
    return max_connections
