"""Keeping password guessing cheap for the server and slow for the guesser.

Each basic-auth check that is not already cached costs one scrypt (tens of milliseconds of
a core and 16 MiB). Two guards keep a flood of wrong passwords from stalling the instance:

* :class:`KdfGate` bounds the KDF work in flight *before* it takes a thread-pool thread:
  a few checks run, a few more wait their turn on the event loop, and the rest are refused
  at once with 429 and ``Retry-After``. Requests with tokens, sessions or cached passwords
  never wait on it.
* :class:`FailureThrottle` counts recent failures per username and per client address;
  past a limit, further attempts are refused with 429, without any KDF work, until the key
  has been quiet for a minute. Refusals are answered at once: holding them would occupy
  the request slots (STRATUS_MAX_CONCURRENT_REQUESTS) that members need. A password that
  already verified on this instance is cached and still gets in, so throttling a username
  slows a guesser without locking its owner out.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from service.auth.cache import ExpiringCache
from service.errors import TooManyRequests

#: KDF computations at once, and checks allowed to wait for one.
KDF_CONCURRENCY = 1
KDF_QUEUE = 4
#: Failures allowed per username and per client address within the window.
USERNAME_FAILURES = 5
CLIENT_FAILURES = 20
WINDOW_SECONDS = 60.0


class KdfGate:
    """At most ``concurrency`` KDF runs and ``queue`` waiters; anyone else gets a 429."""

    def __init__(self, concurrency: int = KDF_CONCURRENCY, queue: int = KDF_QUEUE) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._admitted = 0
        self._limit = concurrency + queue

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._admitted >= self._limit:
            raise TooManyRequests(
                "Too many password checks in progress; retry shortly, or use an access "
                "token (stratus token create).",
                retry_after_seconds=1,
            )
        self._admitted += 1
        try:
            async with self._slots:
                yield
        finally:
            self._admitted -= 1


class FailureThrottle:
    """Failure counts per key (``user:<name>``, ``client:<address>``) that are forgotten
    ``window`` seconds after the key's last failed or refused attempt, so a guesser that
    keeps trying stays throttled until it stops for that long."""

    def __init__(
        self,
        per_username: int = USERNAME_FAILURES,
        per_client: int = CLIENT_FAILURES,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {"user": per_username, "client": per_client}
        self._window = window
        #: key -> failures since the key was last quiet for ``window`` seconds
        self._counts: ExpiringCache[int] = ExpiringCache(100_000, clock)

    def check(self, username: str, client: str) -> None:
        """TooManyRequests if either key is over its limit."""
        for kind, value in (("user", username), ("client", client)):
            key = f"{kind}:{value}"
            count = self._counts.get(key)
            if count is not None and count >= self._limits[kind]:
                self._counts.put(key, count, self._window)  # trying again restarts the wait
                raise TooManyRequests(
                    "Too many failed sign-ins; wait before trying again.",
                    math.ceil(self._window),
                )

    def failed(self, username: str, client: str) -> None:
        for key in (f"user:{username}", f"client:{client}"):
            self._counts.put(key, (self._counts.get(key) or 0) + 1, self._window)
