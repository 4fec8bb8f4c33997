"""Connections to Cloud SQL through the Cloud SQL Python Connector.

Imported only when ``STRATUS_CLOUD_SQL_INSTANCE`` is set: the connector and google-auth
cost about 0.6 s and 80 MB at import. With no password in the database URL the
connector uses IAM database authentication, so the service account is the database
user and no password exists anywhere. PostgreSQL goes through psycopg, the driver of every
other path too: the connector hands it the TLS connection through a local Unix socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import URL

from service.errors import InvalidParameterValue

#: SQLAlchemy driver name -> the connector's driver name.
CONNECTOR_DRIVERS = {
    ("postgresql", "psycopg"): "psycopg",
    ("mysql", "pymysql"): "pymysql",
}


def default_connector_factory(ip_type: str) -> Callable[[], Any]:
    def build() -> Any:
        from google.cloud.sql.connector import Connector

        return Connector(ip_type=ip_type, refresh_strategy="lazy")

    return build


def cloud_sql_creator(
    url: URL,
    instance: str,
    *,
    ip_type: str = "public",
    connector_factory: Callable[[], Any] | None = None,
) -> Callable[[], Any]:
    """A DBAPI ``creator`` for SQLAlchemy that opens each connection through the connector."""
    driver = CONNECTOR_DRIVERS.get((url.get_backend_name(), url.get_driver_name()))
    if driver is None:
        raise InvalidParameterValue(
            "With a Cloud SQL instance the database URL must use postgresql+psycopg:// or "
            f"mysql+pymysql://, not {url.drivername}://"
        )
    connector = (connector_factory or default_connector_factory(ip_type))()
    options: dict[str, Any] = {"user": url.username, "db": url.database}
    if url.password:
        options["password"] = url.password
    else:
        options["enable_iam_auth"] = True

    def creator() -> Any:
        return connector.connect(instance, driver, **options)

    return creator
