"""Cloud SQL wiring: the connector is injected, the SQL runs on the local databases."""

from __future__ import annotations

from typing import Any

import pg8000.dbapi
import pymysql
import pytest
import sqlalchemy as sa

from service.errors import InvalidParameterValue
from service.store import migrate
from service.store.db import create_database
from tests.support.backends import scratch_database

INSTANCE = "my-project:europe-west1:stratus"


class FakeConnector:
    """Stands in for ``google.cloud.sql.connector.Connector``; opens local connections."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def connect(self, instance: str, driver: str, **kwargs: Any) -> Any:
        self.calls.append((instance, driver, kwargs))
        if driver == "pg8000":
            return pg8000.dbapi.connect(user="postgres", host="127.0.0.1", database=self.database)
        return pymysql.connect(user="root", host="127.0.0.1", database=self.database)


@pytest.mark.parametrize(
    ("backend", "url_template", "driver"),
    [
        ("postgresql", "postgresql+pg8000://stratus-sa@my-project.iam@/{db}", "pg8000"),
        ("mysql", "mysql+pymysql://stratus-sa@/{db}", "pymysql"),
    ],
)
def test_connections_go_through_the_connector_with_iam_auth(
    backend: str, url_template: str, driver: str, tmp_path
) -> None:
    with scratch_database(backend, tmp_path) as local_url:
        db_name = sa.engine.make_url(local_url).database
        connector = FakeConnector(db_name)
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
    with pytest.raises(InvalidParameterValue, match="postgresql\\+pg8000"):
        create_database(
            "postgresql+psycopg://u@/db",
            cloud_sql_instance=INSTANCE,
            connector_factory=lambda: FakeConnector("x"),
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
