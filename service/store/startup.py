"""Waiting for the database at start-up.

A new Cloud Run revision can start before the database will have it: the Cloud SQL roles
and the IAM database user granted by the same ``pulumi up`` take a minute or two to
propagate, and a local database may still be booting. The first connection is therefore
retried with exponential backoff for a bounded time (``STRATUS_DB_STARTUP_WAIT_SECONDS``,
which the Pulumi program sets inside the start-up probe's budget), with one log line per
retry saying why. Errors that no wait can fix (a malformed URL, a missing driver) are
raised at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from service.store.db import Database

log = logging.getLogger(__name__)

#: Connector and google-auth failures during IAM propagation (403 from the Admin API, a
#: refused token) come from these packages and are not DBAPI errors.
_TRANSIENT_PACKAGES = ("google", "aiohttp")


@dataclass(frozen=True)
class Backoff:
    """Delays between attempts: ``first``, doubling up to ``longest``."""

    first: float = 0.5
    longest: float = 8.0

    def delay(self, attempt: int) -> float:
        return min(self.longest, self.first * 2.0 ** (attempt - 1))


def is_transient(exc: BaseException) -> bool:
    """True for failures that can go away by waiting: the server not up yet, a refused or
    reset connection, a login refused until IAM has propagated (PostgreSQL reports that as
    a plain DatabaseError, SQLSTATE 28000), a connector call the Admin API refused so far.
    A bad URL or a missing driver (SQLAlchemy's ArgumentError and friends) is not."""
    if isinstance(exc, DBAPIError | OSError):
        return True
    return type(exc).__module__.split(".", 1)[0] in _TRANSIENT_PACKAGES


def wait_for_database(
    database: Database,
    budget_seconds: float,
    *,
    backoff: Backoff = Backoff(),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Open one connection, retrying transient failures for up to ``budget_seconds``.

    Returns the number of attempts it took. Raises the last error once the budget is spent
    (a budget of 0 makes exactly one attempt), and a non-transient error at once.
    """
    deadline = clock() + budget_seconds
    attempt = 0
    while True:
        attempt += 1
        try:
            with database.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            if attempt > 1:
                log.info("Database reachable after %d attempts", attempt)
            return attempt
        except Exception as exc:
            left = deadline - clock()
            if not is_transient(exc) or left <= 0:
                raise
            pause = min(backoff.delay(attempt), left)
            log.warning(
                "Database not reachable yet (attempt %d, %.0f s of the start-up wait left), "
                "retrying in %.1f s: %s",
                attempt,
                left,
                pause,
                describe(exc),
            )
            sleep(pause)


def describe(exc: BaseException) -> str:
    """The error's class and first line: enough to tell a refused port from refused IAM."""
    orig = getattr(exc, "orig", None) or exc
    first_line = (str(orig).strip().splitlines() or [""])[0]
    return f"{type(orig).__name__}: {first_line}"
