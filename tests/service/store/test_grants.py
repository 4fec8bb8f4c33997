"""``stratus db grant``: the server's database user, with no superuser membership, gets just
what it needs to migrate and serve one database, on the real PostgreSQL and MariaDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from service.errors import InvalidParameterValue
from service.store import migrate
from service.store.db import create_database
from service.store.grants import grant_schema_privileges
from tests.support.backends import enabled_backends, scratch_database
from tests.support.cli import stratus

NETWORK_BACKENDS = [b for b in enabled_backends() if b != "sqlite"]


@pytest.fixture
def login(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(admin URL of a scratch database, a new login with no privileges, its URL)."""
    server = request.param
    user = f"stratus_infra_{uuid.uuid4().hex[:8]}"
    with scratch_database(server, tmp_path) as admin_url:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        create = (
            f'CREATE ROLE "{user}" LOGIN' if server == "postgresql" else f"CREATE USER '{user}'@'%'"
        )
        with admin.connect() as conn:
            conn.execute(sa.text(create))
        try:
            user_url = make_url(admin_url).set(username=user, password=None)
            yield admin_url, user, user_url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                if server == "postgresql":
                    conn.exec_driver_sql(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        f"WHERE usename = '{user}'"
                    )
                    conn.exec_driver_sql(f'DROP OWNED BY "{user}"')
                    conn.exec_driver_sql(f'DROP ROLE "{user}"')
                else:
                    conn.execute(sa.text(f"DROP USER '{user}'@'%'"))
            admin.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("login", NETWORK_BACKENDS, indirect=True)
def test_a_granted_user_migrates_and_serves_without_superuser(login: tuple[str, str, str]) -> None:
    admin_url, user, user_url = login
    as_user = create_database(user_url)
    with pytest.raises(DBAPIError):  # before the grant: no table may be created
        migrate.upgrade(as_user)
    as_user.dispose()

    output = stratus(admin_url, "db", "grant", user)
    assert "GRANT" in output and user in output
    stratus(admin_url, "db", "grant", user)  # idempotent

    as_user = create_database(user_url)
    migrate.upgrade(as_user)
    assert migrate.current_revision(as_user) == migrate.head_revision()
    with as_user.write() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch_probe (id INTEGER)")
        conn.exec_driver_sql("DROP TABLE scratch_probe")
    with as_user.read() as conn:
        if as_user.dialect == "postgresql":
            superuser, createrole = conn.exec_driver_sql(
                "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user"
            ).one()
            assert not superuser and not createrole
        else:
            grants = "\n".join(row[0] for row in conn.exec_driver_sql("SHOW GRANTS"))
            assert "ON *.*" not in grants.replace("USAGE ON *.*", "")
    as_user.dispose()


def test_a_user_name_that_is_not_one_is_refused(tmp_path: Path) -> None:
    database = create_database(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(InvalidParameterValue, match="Not a database user name"):
        grant_schema_privileges(database, "x'; DROP TABLE runs; --")
    with pytest.raises(InvalidParameterValue, match="not to sqlite"):
        grant_schema_privileges(database, "stratus-run@p.iam")
