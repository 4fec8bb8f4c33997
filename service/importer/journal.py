"""The import journal: what is done, so an interrupted import resumes where it stopped.

A small SQLite file, committed after every step. It records the experiment mapping (so
a resumed import reuses the ids it chose), which runs, metric keys, artifact files,
logged models and registry entries are complete, and where each source artifact
location landed on the target (to rewrite model-version sources). The writes to the
target are idempotent anyway; the journal only saves repeating them.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from service.store.entities.tracking import MetricPoint
from service.store.validation import storable_metric_value

SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (source_id TEXT PRIMARY KEY, target_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS done (
    kind TEXT NOT NULL, owner TEXT NOT NULL, item TEXT NOT NULL,
    PRIMARY KEY (kind, owner, item)
);
CREATE TABLE IF NOT EXISTS artifacts (
    owner TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
    PRIMARY KEY (owner, path)
);
CREATE TABLE IF NOT EXISTS locations (source TEXT PRIMARY KEY, target TEXT NOT NULL);
"""


def default_path(data_dir: Path, source: str, target: str) -> Path:
    """One journal per (source, target) pair, under the data directory."""
    digest = hashlib.sha256(f"{source}\n{target}".encode()).hexdigest()[:16]
    return data_dir / "imports" / f"{digest}.sqlite"


class Journal:
    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    # --- experiments -----------------------------------------------------------------

    def experiment(self, source_id: str) -> int | None:
        row = self.db.execute(
            "SELECT target_id FROM experiments WHERE source_id = ?", (source_id,)
        ).fetchone()
        return None if row is None else int(row[0])

    def set_experiment(self, source_id: str, target_id: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO experiments VALUES (?, ?)", (source_id, target_id))

    # --- completion ------------------------------------------------------------------

    def is_done(self, kind: str, owner: str, item: str = "") -> bool:
        found = self.db.execute(
            "SELECT 1 FROM done WHERE kind = ? AND owner = ? AND item = ?", (kind, owner, item)
        ).fetchone()
        return found is not None

    def mark_done(self, kind: str, owner: str, item: str = "") -> None:
        self.db.execute("INSERT OR IGNORE INTO done VALUES (?, ?, ?)", (kind, owner, item))

    def artifact(self, owner: str, path: str) -> tuple[int, str] | None:
        """``(size, sha256)`` of a file copied earlier, else None."""
        row = self.db.execute(
            "SELECT size, sha256 FROM artifacts WHERE owner = ? AND path = ?", (owner, path)
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def mark_artifact(self, owner: str, path: str, size: int, sha256: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?, ?)", (owner, path, size, sha256)
        )

    # --- artifact locations ----------------------------------------------------------

    def set_location(self, source: str, target: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO locations VALUES (?, ?)", (source, target))

    def location(self, source: str) -> str | None:
        row = self.db.execute("SELECT target FROM locations WHERE source = ?", (source,)).fetchone()
        return None if row is None else str(row[0])

    # --- verification ----------------------------------------------------------------

    def count_distinct(self, points: Iterable[MetricPoint]) -> int:
        """Distinct points (as a store keeps them) of a history, counted on disk."""
        self.db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS points "
            "(step INTEGER, timestamp INTEGER, value REAL, is_nan INTEGER, "
            "PRIMARY KEY (step, timestamp, value, is_nan))"
        )
        self.db.execute("DELETE FROM points")
        self.db.execute("BEGIN")
        try:
            self.db.executemany(
                "INSERT OR IGNORE INTO points VALUES (?, ?, ?, ?)",
                ((p.step, p.timestamp, *storable_metric_value(p.value)) for p in points),
            )
        finally:
            self.db.execute("COMMIT")
        return int(self.db.execute("SELECT count(*) FROM points").fetchone()[0])

    def close(self) -> None:
        self.db.close()
