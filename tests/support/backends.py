"""Throwaway databases on the three backends the suite runs against.

PostgreSQL (127.0.0.1:5432, trust auth) and MariaDB (127.0.0.1:3306, root without a
password) are expected to run locally; ``.ci/run`` starts them. Each test session gets
fresh, uniquely named databases, dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get(
    "STRATUS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
MYSQL_ADMIN_URL = os.environ.get(
    "STRATUS_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)
ALL_BACKENDS = ("sqlite", "postgresql", "mysql")


def enabled_backends() -> list[str]:
    """Backends to test; ``STRATUS_TEST_BACKENDS=sqlite`` narrows the suite on a laptop."""
    raw = os.environ.get("STRATUS_TEST_BACKENDS")
    if not raw:
        return list(ALL_BACKENDS)
    return [name.strip() for name in raw.split(",") if name.strip() in ALL_BACKENDS]


@contextmanager
def scratch_database(backend: str, workdir: Path) -> Iterator[str]:
    """Create an empty database on ``backend`` and yield its SQLAlchemy URL."""
    name = f"stratus_test_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        yield f"sqlite:///{workdir / (name + '.db')}"
        return
    admin_url = PG_ADMIN_URL if backend == "postgresql" else MYSQL_ADMIN_URL
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    quote = '"' if backend == "postgresql" else "`"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {quote}{name}{quote}")
    try:
        yield str(
            sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                )
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote}{name}{quote}")
        admin.dispose()
