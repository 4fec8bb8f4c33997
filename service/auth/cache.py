"""A small bounded cache whose entries expire: the warm path of every credential check."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

Clock = Callable[[], float]


class ExpiringCache(Generic[V]):
    """``key -> value`` until each entry's own deadline; the oldest entry goes when full.

    Lookups are one dict access and one comparison, without a lock; writes (from the event
    loop and from thread-pool verifications) take one, so eviction never races.
    """

    def __init__(self, max_entries: int = 10_000, clock: Clock = time.monotonic) -> None:
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: Hashable, value: V, ttl: float) -> None:
        if ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= self._max and key not in self._entries:
                self._entries.pop(next(iter(self._entries)), None)
            self._entries[key] = (self._clock() + ttl, value)

    def discard(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def discard_where(self, predicate: Callable[[V], bool]) -> None:
        with self._lock:
            for key in [k for k, (_, v) in self._entries.items() if predicate(v)]:
                self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
