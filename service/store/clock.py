"""The store's notion of "now", in epoch milliseconds as MLflow uses everywhere."""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
