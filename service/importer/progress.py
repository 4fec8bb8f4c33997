"""Progress while an import runs, and the summary at its end."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO

#: The order counters appear in, and how they are named.
COUNTERS = (
    "experiments",
    "runs",
    "points",
    "artifacts",
    "bytes",
    "logged models",
    "registered models",
    "model versions",
    "aliases",
)
MAX_LISTED = 50


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _line(counts: Counter[str]) -> str:
    parts = []
    for name in COUNTERS:
        if counts[name]:
            value = human_bytes(counts[name]) if name == "bytes" else f"{counts[name]:,}"
            parts.append(f"{name} {value}")
    return " · ".join(parts) or "nothing"


class Progress:
    """Counts what moved, what was already there, and what was skipped (and why)."""

    def __init__(self, stream: TextIO = sys.stderr, interval: float = 2.0) -> None:
        self.stream = stream
        self.interval = interval
        self.done: Counter[str] = Counter()
        self.resumed: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.reasons: list[str] = []
        self._last = time.monotonic()
        self._started = self._last

    def add(self, what: str, n: int = 1) -> None:
        self.done[what] += n
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self.stream.write(f"  … {_line(self.done)}\n")
            self.stream.flush()

    def already(self, what: str, n: int = 1) -> None:
        """Found complete in the journal: nothing sent."""
        self.resumed[what] += n

    def skip(self, what: str, reason: str) -> None:
        self.skipped[what] += 1
        self.reasons.append(f"{what}: {reason}")
        self.say(f"skipped {what[:-1] if what.endswith('s') else what}: {reason}")

    def say(self, message: str) -> None:
        self.stream.write(f"{message}\n")
        self.stream.flush()

    def line(self) -> str:
        """What has been counted so far, on one line."""
        return _line(self.done)

    def summary(self, *, dry_run: bool = False) -> str:
        seconds = time.monotonic() - self._started
        verb = "Would import" if dry_run else "Imported"
        lines = [f"{verb}: {_line(self.done)} (in {seconds:.1f} s)"]
        if self.resumed:
            lines.append(f"Already imported (journal): {_line(self.resumed)}")
        if self.skipped:
            total = ", ".join(f"{n} {what}" for what, n in self.skipped.items())
            lines.append(f"Skipped: {total}")
            lines += [f"  - {reason}" for reason in self.reasons[:MAX_LISTED]]
            if len(self.reasons) > MAX_LISTED:
                lines.append(f"  … and {len(self.reasons) - MAX_LISTED} more")
        return "\n".join(lines)
