"""The privileges the server's own database user needs, granted by a more privileged one.

On Cloud SQL the server's IAM database user is not a member of ``cloudsqlsuperuser``: it may
create and change the tables of its one database (so migrations run at start) and use them,
nothing more. A new IAM user starts with no privileges, and only a privileged user can give
it these; ``stratus db grant USER`` does that once, run by the Pulumi program's one-shot
Cloud Run job as a separate, privileged identity that never serves requests.

* PostgreSQL: ``USAGE`` and ``CREATE`` on schema ``public``. The tables the user creates are
  its own, so it can alter and drop them; it gets nothing on other schemas or databases.
* MySQL: data and schema privileges on the one database (``db.*``), not global ones.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from service.errors import InvalidParameterValue
from service.store.db import Database

#: Database user names a grant accepts: IAM users (``sa@project.iam``, ``sa``) and plain ones.
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,62}$")
#: What migrations and the server do on MySQL, on the one database.
MYSQL_PRIVILEGES = (
    "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES, "
    "CREATE TEMPORARY TABLES"
)


def grant_schema_privileges(database: Database, user: str) -> list[str]:
    """Give ``user`` what the server needs on this database; returns the statements run.

    Idempotent: granting again changes nothing.
    """
    if not _USER.match(user):
        raise InvalidParameterValue(f"Not a database user name: {user!r}")
    dialect = database.engine.dialect
    if dialect.name == "postgresql":
        role = dialect.identifier_preparer.quote_identifier(user)
        statements = [f"GRANT USAGE, CREATE ON SCHEMA public TO {role}"]
    elif dialect.name in ("mysql", "mariadb"):
        schema = database.engine.url.database
        if not schema:
            raise InvalidParameterValue("The database URL names no database to grant on")
        target = dialect.identifier_preparer.quote_identifier(schema)
        statements = [f"GRANT {MYSQL_PRIVILEGES} ON {target}.* TO '{user}'@'%'"]
    else:
        raise InvalidParameterValue(f"Grants apply to PostgreSQL and MySQL, not to {dialect.name}")
    with database.write() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))  # text(): MySQL drivers would read '%' as a format
    return statements
