"""The migrations build exactly the schema in ``tables.py``, on every backend, and undo cleanly."""

from __future__ import annotations

import warnings
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from service.store import migrate
from service.store.db import create_database
from service.store.tables import metadata
from tests.support.backends import scratch_database


def _schema_diff(database) -> list:
    with database.engine.connect() as conn, warnings.catch_warnings():
        include = _on(conn.dialect)
        # Alembic's SQLite comparison warns of an expression index it cannot reflect before
        # include_object leaves it out: expected for the indexes of other databases only.
        for table in metadata.tables.values():
            for index in table.indexes:
                if not include(index, index.name, "index", False, None):
                    warnings.filterwarnings(
                        "ignore", message=f".*expression-based index {index.name!r}"
                    )
        opts = {"compare_type": True, "include_object": include}
        context = MigrationContext.configure(conn, opts=opts)
        return compare_metadata(context, metadata)


def _on(dialect):
    """Leave out what ``tables.py`` declares for other databases only (``Index.ddl_if``)."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        ddl_if = getattr(obj, "_ddl_if", None)
        if reflected or ddl_if is None:
            return True
        if ddl_if.callable_ is not None:
            return ddl_if.callable_(obj, None, None, dialect=dialect)
        return ddl_if.dialect in (None, dialect.name)

    return include


def test_head_revision_is_alembics_head_of_one_linear_chain() -> None:
    """``migrate.head_revision`` reads file names; Alembic must agree, file by file."""
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
    scripts = ScriptDirectory.from_config(config)
    assert scripts.get_heads() == [migrate.head_revision()]
    for script in scripts.walk_revisions():
        number = int(script.revision)
        assert Path(script.path).name.startswith(f"{script.revision}_")
        assert script.down_revision == (f"{number - 1:04d}" if number > 1 else None)


def test_upgrade_matches_tables_and_downgrade_is_clean(backend: str, tmp_path) -> None:
    with scratch_database(backend, tmp_path) as url:
        database = create_database(url)
        try:
            migrate.upgrade(database)
            assert migrate.current_revision(database) == migrate.head_revision()
            assert _schema_diff(database) == []
            with database.read() as conn:
                default = conn.execute(
                    sa.text("SELECT name FROM experiments WHERE experiment_id = 0")
                )
                assert default.scalar() == "Default"

            migrate.downgrade(database, "base")
            remaining = set(sa.inspect(database.engine).get_table_names()) - {"alembic_version"}
            assert remaining == set()

            migrate.upgrade(database)
            migrate.upgrade(database)  # a second start is a no-op
            assert migrate.current_revision(database) == migrate.head_revision()
        finally:
            database.dispose()
