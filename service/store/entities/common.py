"""Records every area shares: a key and its value, a page of results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the token for the next, if any."""

    items: list[T]
    next_page_token: str | None = None
