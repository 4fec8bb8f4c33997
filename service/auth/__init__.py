"""Access control: who may call the server, and what each member may touch (docs/auth.md).

Nothing here reads an HTTP request: the guard that does, ``service/http/guard/``, asks
this package. :func:`open_access` builds the state it shares with the handlers once the
database is open. Nothing heavy is imported here: JWT and crypto libraries load on the
first token that needs them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from service.config import Settings
from service.store.db import Database

if TYPE_CHECKING:
    from service.auth.access import Access

log = logging.getLogger(__name__)


def open_access(settings: Settings, db: Database) -> Access:
    """The state the middleware shares, over the open database."""
    from service.auth.access import Access
    from service.store.auth import AuthStore

    access = Access(settings, AuthStore(db))
    if access.team.is_empty:
        log.error(
            "Auth is on but STRATUS_ADMINS, STRATUS_MEMBERS and STRATUS_GROUPS are empty: "
            "only users created with `stratus user create` can get in."
        )
    return access


def warn_disabled(settings: Settings) -> None:
    """The loud warning for a server that trusts everyone."""
    log.warning(
        "AUTHENTICATION IS OFF: anyone who can reach http://%s:%d can read and change "
        "everything. That is fine on a laptop; for a shared server set "
        "STRATUS_AUTH_ENABLED=true (see docs/auth.md).",
        settings.host,
        settings.port,
    )
