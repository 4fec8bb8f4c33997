"""The ``stratus`` command.

``stratus serve`` also takes ``mlflow server``'s store flags, so a tutorial's
``mlflow server --backend-store-uri sqlite:///mlflow.db --default-artifact-root ./artifacts``
works with ``stratus serve`` in its place.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from service import __version__
from service.config import Settings

log = logging.getLogger("service")

Command = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace) -> Settings:
    """Environment first, flags on top: the one settings object for this process."""
    overrides: dict[str, Any] = {}
    for flag, field in (
        ("host", "host"),
        ("port", "port"),
        ("backend_store_uri", "database_url"),
        ("artifacts_destination", "artifact_root"),
        ("log_level", "log_level"),
        ("log_format", "log_format"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            overrides[field] = value
    return Settings(**overrides)


def serve(args: argparse.Namespace) -> int:
    from service.app import create_app
    from service.logs import configure_logging
    from service.server import serve as run_server
    from service.store.db import open_database
    from service.store.startup import describe, wait_for_database

    settings = _settings(args)
    configure_logging(settings.log_level, settings.log_format)
    if settings.uses_embedded_database:
        log.warning(
            "No STRATUS_DATABASE_URL: using the embedded default, a SQLite file at %s",
            settings.resolved_database_url.removeprefix("sqlite:///"),
        )
    if not settings.artifact_root:
        log.warning("No STRATUS_ARTIFACT_ROOT: artifacts go to %s", settings.resolved_artifact_root)
    database = open_database(settings)
    if settings.migrate_on_start:
        # Before the port opens: a database that never answers is one line and exit 1
        # (Cloud Run then retries the instance), not a start-up traceback.
        try:
            wait_for_database(database, settings.db_startup_wait_seconds)
        except Exception as exc:
            log.error(
                "Not starting: the database did not answer within %.0f s (%s)",
                settings.db_startup_wait_seconds,
                describe(exc),
            )
            database.dispose()
            return 1
    app = create_app(settings, database)
    log.info("Serving HTTP/1.1 and h2c on http://%s:%d", settings.host, settings.port)
    run_server(app, settings)
    return 0


def db_upgrade(args: argparse.Namespace) -> int:
    from service.logs import configure_logging
    from service.store import migrate
    from service.store.db import open_database

    settings = _settings(args)
    configure_logging(settings.log_level, settings.log_format)
    database = open_database(settings)
    migrate.upgrade(database, args.revision)
    print(f"Database schema is at revision {migrate.current_revision(database)}")
    database.dispose()
    return 0


def db_grant(args: argparse.Namespace) -> int:
    from service.logs import configure_logging
    from service.store.db import open_database
    from service.store.grants import grant_schema_privileges
    from service.store.startup import wait_for_database

    settings = _settings(args)
    configure_logging(settings.log_level, settings.log_format)
    database = open_database(settings)
    wait_for_database(database, settings.db_startup_wait_seconds)
    for statement in grant_schema_privileges(database, args.user):
        print(statement)
    database.dispose()
    return 0


def db_current(args: argparse.Namespace) -> int:
    from service.store import migrate
    from service.store.db import open_database

    database = open_database(_settings(args))
    current = migrate.current_revision(database)
    head = migrate.head_revision()
    print(f"current: {current or '(empty database)'}  head: {head}")
    database.dispose()
    return 0 if current == head else 1


def import_history(args: argparse.Namespace) -> int:
    from service.importer.command import run
    from service.logs import configure_logging

    settings = _settings(args)
    # The import reports its own progress; library logs only when something is wrong.
    configure_logging(args.log_level or "warning", settings.log_format)
    return run(args, settings)


def _import_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        metavar="SOURCE",
        help="an mlruns/ folder, an MLflow database (sqlite:///mlflow.db, postgresql://…, "
        "a .db file) or an MLflow-compatible server (http(s)://…)",
    )
    parser.add_argument(
        "--to",
        metavar="URL",
        help="a Stratus server (auth: MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/"
        "PASSWORD); default: the local store of this machine's settings",
    )
    parser.add_argument(
        "--experiments",
        nargs="+",
        metavar="PATTERN",
        help="only experiments whose name matches (glob, e.g. 'churn-*') or whose source id is",
    )
    parser.add_argument(
        "--models", nargs="+", metavar="PATTERN", help="only these registered models (glob)"
    )
    parser.add_argument(
        "--map-experiment",
        action="append",
        metavar="SRC=DST",
        help="import source experiment SRC (id or name) into target experiment id DST",
    )
    parser.add_argument(
        "--artifacts-root",
        metavar="URI",
        help="where the source server kept mlflow-artifacts:/ files (its --artifacts-destination)",
    )
    parser.add_argument("--journal", metavar="PATH", help="the resume journal (SQLite file)")
    parser.add_argument("--dry-run", action="store_true", help="report what would move")
    parser.add_argument(
        "--verify", action="store_true", help="then compare counts and artifact checksums"
    )


def auth_admin(args: argparse.Namespace) -> int:
    """``stratus user ...`` and ``stratus token ...``: straight on the database."""
    from service.auth.commands import run

    return run(args, _settings(args))


def _auth_parsers(commands: Any) -> None:
    user = commands.add_parser("user", help="users: admins, members, basic-auth passwords")
    user_commands = user.add_subparsers(dest="auth_command", required=True)
    create = user_commands.add_parser("create", help="register a user (a member from then on)")
    create.add_argument("username", help="an email for Google sign-in, or any name")
    create.add_argument("--admin", action="store_true", help="make the user an admin")
    create.add_argument(
        "--password", action="store_true", help="set a basic-auth password (prompted, or stdin)"
    )
    user_commands.add_parser("list", help="list registered users")
    delete = user_commands.add_parser("delete", help="remove a user, their tokens and grants")
    delete.add_argument("username")
    admin = user_commands.add_parser("set-admin", help="grant or take away admin rights")
    admin.add_argument("username")
    admin.add_argument("is_admin", choices=["true", "false"])
    password = user_commands.add_parser("set-password", help="set a basic-auth password")
    password.add_argument("username")

    token = commands.add_parser("token", help="personal access tokens (MLFLOW_TRACKING_TOKEN)")
    token_commands = token.add_subparsers(dest="auth_command", required=True)
    token_create = token_commands.add_parser("create", help="create a token; prints it once")
    token_create.add_argument("--user", required=True, help="the token's owner")
    token_create.add_argument("--name", default="", help="what the token is for")
    token_create.add_argument("--days", type=int, default=90, help="lifetime (default 90)")
    token_list = token_commands.add_parser("list", help="list tokens (never their secrets)")
    token_list.add_argument("--user", help="only this user's")
    token_revoke = token_commands.add_parser("revoke", help="revoke a token by its id")
    token_revoke.add_argument("token_id")
    for parser in (user, token):
        parser.set_defaults(handler=auth_admin)
    for parser in (*user_commands.choices.values(), *token_commands.choices.values()):
        _store_flags(parser)


def gc(args: argparse.Namespace) -> int:
    """``stratus gc``: permanently remove deleted runs, experiments, logged models, traces."""
    from service import gc as collector
    from service.artifacts import open_artifact_store
    from service.logs import configure_logging
    from service.store.db import open_database
    from service.store.experiments import ExperimentStore
    from service.store.gc import GarbageStore
    from service.store.traces import TraceStore

    settings = _settings(args)
    configure_logging(args.log_level or "warning", settings.log_format)
    database = open_database(settings)
    try:
        return collector.run(
            GarbageStore(database),
            open_artifact_store(settings.resolved_artifact_root),
            older_than=args.older_than,
            run_ids=args.run_ids,
            experiment_ids=args.experiment_ids,
            logged_model_ids=args.logged_model_ids,
            dry_run=args.dry_run,
            traces=TraceStore(database, ExperimentStore(database)),
            trace_retention=args.trace_retention
            or (f"{settings.trace_retention_days}d" if settings.trace_retention_days else None),
        )
    finally:
        database.dispose()


def _gc_flags(parser: argparse.ArgumentParser) -> None:
    """``mlflow gc``'s flags, plus ``--dry-run``."""
    parser.add_argument(
        "--older-than",
        metavar="DURATION",
        help="only what was deleted longer ago than this: 30d, 12h, 1d2h3m4s (default: all)",
    )
    for kind in ("run", "experiment", "logged-model"):
        parser.add_argument(
            f"--{kind}-ids",
            metavar="IDS",
            help=f"comma-separated {kind.replace('-', ' ')} ids to remove (each must be deleted)",
        )
    parser.add_argument(
        "--trace-retention",
        metavar="DURATION",
        help="also remove traces requested longer ago than this, deleted or not: 90d "
        "(default: STRATUS_TRACE_RETENTION_DAYS; unset keeps traces until deleted)",
    )
    parser.add_argument("--dry-run", action="store_true", help="report, change nothing")
    parser.add_argument(
        "--artifacts-destination",
        "--default-artifact-root",
        dest="artifacts_destination",
        metavar="URI",
        help="the server's artifact root (STRATUS_ARTIFACT_ROOT)",
    )


def _store_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend-store-uri",
        metavar="URL",
        help="SQLAlchemy database URL (STRATUS_DATABASE_URL); default: embedded SQLite",
    )
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--log-format", choices=["plain", "json"])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stratus", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"stratus {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="run the tracking server")
    serve_parser.add_argument("--host", help="interface to bind (STRATUS_HOST; default 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, help="port (PORT or STRATUS_PORT; default 5000)")
    _store_flags(serve_parser)
    serve_parser.add_argument(
        "--artifacts-destination",
        "--default-artifact-root",
        dest="artifacts_destination",
        metavar="URI",
        help="artifact root: a path or gs://bucket/prefix (STRATUS_ARTIFACT_ROOT)",
    )
    serve_parser.add_argument(
        "--serve-artifacts",
        action="store_true",
        help="accepted for mlflow-server compatibility; artifacts are always proxied",
    )
    serve_parser.set_defaults(handler=serve)

    db_parser = commands.add_parser("db", help="database schema management")
    db_commands = db_parser.add_subparsers(dest="db_command", required=True)
    upgrade_parser = db_commands.add_parser("upgrade", help="apply migrations")
    upgrade_parser.add_argument("revision", nargs="?", default="head")
    _store_flags(upgrade_parser)
    upgrade_parser.set_defaults(handler=db_upgrade)
    current_parser = db_commands.add_parser("current", help="show the schema revision")
    _store_flags(current_parser)
    current_parser.set_defaults(handler=db_current)
    grant_parser = db_commands.add_parser(
        "grant",
        help="as a privileged user, give USER what the server needs on this database "
        "(docs/deploy.md)",
    )
    grant_parser.add_argument("user", help="the server's database user")
    _store_flags(grant_parser)
    grant_parser.set_defaults(handler=db_grant)

    import_parser = commands.add_parser(
        "import", help="bring experiments, runs, models and the registry over from MLflow"
    )
    _import_flags(import_parser)
    _store_flags(import_parser)
    import_parser.add_argument(
        "--artifacts-destination",
        dest="artifacts_destination",
        metavar="URI",
        help="artifact root of the local target (STRATUS_ARTIFACT_ROOT)",
    )
    import_parser.set_defaults(handler=import_history)

    gc_parser = commands.add_parser(
        "gc", help="permanently remove deleted runs, experiments and logged models"
    )
    _gc_flags(gc_parser)
    _store_flags(gc_parser)
    gc_parser.set_defaults(handler=gc)
    _auth_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
