"""``stratus user ...`` and ``stratus token ...``: access control from the command line.

They work on the database directly (the same ``STRATUS_DATABASE_URL`` as the server, so
run them where the database is reachable, e.g. with the Cloud SQL connector), which is how
the first admin and CI's first token come to exist. A running server sees the change
within ``STRATUS_AUTH_CACHE_SECONDS``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime

from service.auth import passwords, tokens
from service.config import Settings
from service.errors import StratusError
from service.store import migrate
from service.store.auth import AuthStore, normalize_username
from service.store.db import open_database
from service.store.entities.auth import TokenRecord


def run(args: argparse.Namespace, settings: Settings) -> int:
    database = open_database(settings)
    try:
        if settings.migrate_on_start:
            migrate.upgrade(database)
        store = AuthStore(database)
        command = COMMANDS[(args.command, args.auth_command)]
        return command(store, args)
    except StratusError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        database.dispose()


def _user_create(store: AuthStore, args: argparse.Namespace) -> int:
    username = normalize_username(args.username)
    hashed = passwords.hash_password(_read_password(username)) if args.password else None
    user = store.create_user(username, hashed, is_admin=args.admin)
    role = "admin" if user.is_admin else "member"
    print(f"Created {role} {user.username}" + (" with a password" if hashed else ""))
    return 0


def _user_list(store: AuthStore, _args: argparse.Namespace) -> int:
    for user in store.list_users():
        flags = [f for f, on in (("admin", user.is_admin), ("password", user.has_password)) if on]
        print(f"{user.username}\t{','.join(flags) or '-'}\t{_when(user.creation_time)}")
    return 0


def _user_delete(store: AuthStore, args: argparse.Namespace) -> int:
    store.delete_user(normalize_username(args.username))
    print(f"Deleted {args.username}, their tokens and their grants")
    return 0


def _user_set_admin(store: AuthStore, args: argparse.Namespace) -> int:
    store.set_admin(normalize_username(args.username), args.is_admin == "true")
    print(f"{args.username} is {'now' if args.is_admin == 'true' else 'no longer'} an admin")
    return 0


def _user_set_password(store: AuthStore, args: argparse.Namespace) -> int:
    username = normalize_username(args.username)
    store.set_password(username, passwords.hash_password(_read_password(username)))
    print(f"Password of {username} changed")
    return 0


def _token_create(store: AuthStore, args: argparse.Namespace) -> int:
    issued = tokens.issue(store, normalize_username(args.user), args.name, args.days)
    record = issued.record
    print(
        f"Token {record.token_id} for {record.username}, valid until "
        f"{_when(record.expiry_time)}. It is shown only once:",
        file=sys.stderr,
    )
    print(issued.secret)
    return 0


def _token_list(store: AuthStore, args: argparse.Namespace) -> int:
    username = normalize_username(args.user) if args.user else None
    for record in store.list_tokens(username):
        print(
            f"{record.token_id}\t{record.username}\t{record.name or '-'}\t"
            f"{_state(record)}\texpires {_when(record.expiry_time)}"
        )
    return 0


def _token_revoke(store: AuthStore, args: argparse.Namespace) -> int:
    record = store.revoke_token(args.token_id)
    print(f"Revoked token {record.token_id} of {record.username}")
    return 0


COMMANDS = {
    ("user", "create"): _user_create,
    ("user", "list"): _user_list,
    ("user", "delete"): _user_delete,
    ("user", "set-admin"): _user_set_admin,
    ("user", "set-password"): _user_set_password,
    ("token", "create"): _token_create,
    ("token", "list"): _token_list,
    ("token", "revoke"): _token_revoke,
}


def _read_password(username: str) -> str:
    """Prompted twice on a terminal; otherwise the first line of stdin."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"Password for {username}: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("error: the passwords differ")
    return first


def _state(record: TokenRecord) -> str:
    if record.revoked_time is not None:
        return "revoked"
    return "active" if record.is_active(int(datetime.now(UTC).timestamp() * 1000)) else "expired"


def _when(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
