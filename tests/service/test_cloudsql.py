"""Cloud SQL wiring: the connector's own driver adapters, on the local databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.errors import InvalidParameterValue
from service.store import migrate
from service.store.db import create_database
from tests.support.backends import scratch_database
from tests.support.cloudsql import LoopbackConnector

INSTANCE = "my-project:europe-west1:stratus"


@pytest.mark.parametrize(
    ("backend", "url_template", "driver"),
    [
        ("postgresql", "postgresql+psycopg://stratus-sa@my-project.iam@/{db}", "psycopg"),
        ("mysql", "mysql+pymysql://stratus-sa@/{db}", "pymysql"),
    ],
)
def test_connections_go_through_the_connector_with_iam_auth(
    backend: str, url_template: str, driver: str, tmp_path
) -> None:
    with scratch_database(backend, tmp_path) as local_url:
        db_name = sa.engine.make_url(local_url).database
        connector = LoopbackConnector()
        url = url_template.format(db=db_name).replace("@my-project.iam@", "%40my-project.iam@")
        database = create_database(
            url, cloud_sql_instance=INSTANCE, connector_factory=lambda: connector
        )
        try:
            migrate.upgrade(database)
            with database.read() as conn:
                assert conn.execute(sa.text("SELECT name FROM experiments")).scalar() == "Default"
        finally:
            database.dispose()
    instance, used_driver, options = connector.calls[0]
    assert instance == INSTANCE
    assert used_driver == driver
    assert options["enable_iam_auth"] is True
    assert "password" not in options
    assert options["db"] == db_name
    assert options["user"] in ("stratus-sa@my-project.iam", "stratus-sa")


def test_unsupported_driver_is_refused() -> None:
    with pytest.raises(InvalidParameterValue, match=r"postgresql\+psycopg"):
        create_database(
            "postgresql+pg8000://u@/db",
            cloud_sql_instance=INSTANCE,
            connector_factory=LoopbackConnector,
        )


def test_connector_is_not_imported_without_an_instance() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from service.config import Settings; from service.app import create_app;"
        "create_app(Settings());"
        "assert 'google.cloud.sql.connector' not in sys.modules;"
        "assert 'gcsfs' not in sys.modules; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr
