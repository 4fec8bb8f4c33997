"""The Cloud SQL connector's own driver adapters, over a plain socket to a local database.

``google.cloud.sql.connector.Connector.connect`` resolves the instance, opens a TLS
socket to it with an ephemeral certificate, and hands that socket to the adapter of the
chosen driver: pymysql takes it directly; psycopg, which cannot, gets a local Unix socket
whose bytes a proxy thread forwards. Only the first half needs Google Cloud. This stand-in
does the second half for real: the adapter code that runs on Cloud Run runs here, on a
socket to 127.0.0.1 without TLS.
"""

from __future__ import annotations

import socket
from typing import Any

PORTS = {"psycopg": 5432, "pymysql": 3306}


class LoopbackConnector:
    """Stands in for ``Connector``; records each call and connects through its adapters."""

    def __init__(self, database: str | None = None) -> None:
        #: Overrides the database the URL names (the URL of a Cloud SQL user has no host).
        self.database = database
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def connect(self, instance: str, driver: str, **options: Any) -> Any:
        from google.cloud.sql.connector import psycopg, pymysql

        self.calls.append((instance, driver, dict(options)))
        options.pop("enable_iam_auth", None)
        # IAM users are the local superusers here; no password either way.
        options["user"] = "postgres" if driver == "psycopg" else "root"
        if self.database:
            options["db"] = self.database
        sock = socket.create_connection(("127.0.0.1", PORTS[driver]))
        adapter = {"psycopg": psycopg.connect, "pymysql": pymysql.connect}[driver]
        return adapter("127.0.0.1", sock, timeout=30, **options)
