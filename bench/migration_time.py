"""How long a schema upgrade takes on a store with many metric points.

Builds a scratch PostgreSQL database at the oldest revision, fills it with ``--points``
metric rows (server-side, ``generate_series``) over ``--runs`` runs, analyses it, and times
the upgrade to head, the same code ``stratus db upgrade`` and every start run::

    .venv/bin/python -m bench.migration_time --points 10000000

The figure goes in docs/deploy.md ("Upgrading"). The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import time
import uuid

import psycopg
import sqlalchemy as sa

from bench.servers import PG_ADMIN_URL
from service.store import migrate
from service.store.db import create_database

OLDEST = "0001"


def _fill(database_url: str, runs: int, points: int) -> None:
    per_run = max(points // runs, 1)
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO experiments (experiment_id, name, artifact_location, "
                "lifecycle_stage, creation_time, last_update_time) "
                "VALUES (1, 'bench', 'mlflow-artifacts:/1', 'active', 0, 0)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, "
                "lifecycle_stage, artifact_uri) SELECT md5(r::text), 1, 'run-' || r, 'bench', "
                "'FINISHED', r, 'active', 'mlflow-artifacts:/1/' || md5(r::text) "
                "FROM generate_series(1, :runs) AS r"
            ),
            {"runs": runs},
        )
        conn.execute(
            sa.text(
                "INSERT INTO metrics (run_uuid, key, step, timestamp, value, is_nan) "
                "SELECT md5(r::text), 'loss', s, 1700000000000 + s, 1.0 / (s + 1), false "
                "FROM generate_series(1, :runs) AS r, generate_series(0, :per_run - 1) AS s"
            ),
            {"runs": runs, "per_run": per_run},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=1_000)
    args = parser.parse_args()

    name = f"bench_migrate_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    database_url = url.render_as_string(hide_password=False)
    try:
        database = create_database(database_url)
        migrate.upgrade(database, OLDEST)
        started = time.perf_counter()
        _fill(database_url, args.runs, args.points)
        print(
            f"filled {args.points:,} points over {args.runs:,} runs "
            f"in {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        migrate.upgrade(database)
        seconds = time.perf_counter() - started
        print(f"upgrade {OLDEST} -> {migrate.head_revision()}: {seconds:.1f} s")
        database.dispose()
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
