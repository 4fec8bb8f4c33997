"""Storage failures mapped to the service's error tree, at the artifact store's boundary.

fsspec back ends fail in their own words: gcsfs raises ``HttpError`` (5xx, 429 after its
own retries; 401), a bare ``OSError("Forbidden: ...")`` for 403, aiohttp and requests
errors for broken connections, google-auth errors for credentials. None of them is the
caller's mistake, and none is a bug in Stratus: a client should see a 503 and retry (the
mlflow client does), and the operator should read what to fix. Missing files are not
handled here: the store turns those into ``RESOURCE_DOES_NOT_EXIST`` itself.

The foreign types are looked up only if their library is already imported, so a local
artifact root never loads gcsfs.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import sys
from collections.abc import Iterator
from typing import Literal

from service.errors import StratusError, TemporarilyUnavailable

log = logging.getLogger(__name__)

#: Seconds a client waits before retrying a store that failed on its way (a blip), and
#: one that refuses the server's identity (an operator has to act).
TRANSIENT_RETRY_AFTER = 2
DENIED_RETRY_AFTER = 30

_HANDLED_BY_THE_STORE = (FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError)

Failure = Literal["denied", "full", "transient"]

#: A disk or quota with no room left: the upload cannot finish until an operator acts.
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


@contextlib.contextmanager
def storage_errors(root: str) -> Iterator[None]:
    """Re-raise a storage failure under ``root`` as :class:`TemporarilyUnavailable`."""
    try:
        yield
    except (StratusError, *_HANDLED_BY_THE_STORE):
        raise
    except Exception as exc:
        failure = classify(exc)
        if failure is None:
            raise
        log.warning("Artifact store %s failed (%s): %r", root, failure, exc)
        raise unavailable(root, failure) from exc


def unavailable(root: str, failure: Failure) -> TemporarilyUnavailable:
    if failure == "denied":
        return TemporarilyUnavailable(
            f"The server is not allowed to use its artifact store {root}: its service "
            "account needs read and write access to that bucket (see docs/deploy.md).",
            retry_after_seconds=DENIED_RETRY_AFTER,
        )
    if failure == "full":
        return TemporarilyUnavailable(
            f"The artifact store {root} is full: nothing was stored. Retry once an operator "
            "has made room.",
            retry_after_seconds=DENIED_RETRY_AFTER,
        )
    return TemporarilyUnavailable(
        f"The artifact store {root} is unavailable; retry shortly.",
        retry_after_seconds=TRANSIENT_RETRY_AFTER,
    )


def classify(exc: BaseException) -> Failure | None:
    """``denied``, ``transient``, or None for an error that is not the store's."""
    if isinstance(exc, PermissionError):
        return "denied"
    if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
        return "full"
    if isinstance(exc, TimeoutError | ConnectionError):
        return "transient"
    if "gcsfs" in sys.modules:
        return _classify_gcs(exc)
    return None


def _classify_gcs(exc: BaseException) -> Failure | None:
    # gcsfs imports every one of these itself.
    import aiohttp
    import google.auth.exceptions
    import requests
    from gcsfs.retry import HttpError

    if isinstance(exc, HttpError):
        code = int(exc.code or 0)
        if code in (401, 403):
            return "denied"
        return "transient" if code >= 500 or code in (408, 429) else None
    if type(exc) is OSError and str(exc).startswith("Forbidden"):  # gcsfs's 403
        return "denied"
    if isinstance(exc, google.auth.exceptions.RefreshError):
        return "denied"
    if isinstance(
        exc,
        aiohttp.ClientError | requests.RequestException | google.auth.exceptions.TransportError,
    ):
        return "transient"
    return None
