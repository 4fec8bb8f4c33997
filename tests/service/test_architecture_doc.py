"""docs/architecture.md names every module of the service, in the row of its package."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE = REPO_ROOT / "service"
DOC = REPO_ROOT / "docs" / "architecture.md"


def _layout_rows() -> dict[str, str]:
    """The Layout table: each path in a row's first cell -> the whole row's text."""
    rows: dict[str, str] = {}
    for line in DOC.read_text().splitlines():
        cells = line.split("|")
        if not line.startswith("| `") or len(cells) < 3:
            continue
        for path in re.findall(r"`([^`]+)`", cells[1]):
            rows[path] = line
    return rows


def _modules() -> list[Path]:
    return sorted(
        path
        for path in SERVICE.rglob("*.py")
        if path.name != "__init__.py" and "migrations" not in path.relative_to(SERVICE).parts
    )


def test_every_module_is_in_the_layout() -> None:
    rows = _layout_rows()
    missing = []
    for module in _modules():
        relative = module.relative_to(REPO_ROOT).as_posix()
        if relative in rows:
            continue
        package = f"{module.parent.relative_to(REPO_ROOT).as_posix()}/"
        if package not in rows or f"`{module.name}`" not in rows[package]:
            missing.append(relative)
    assert not missing, f"docs/architecture.md does not say what these do: {missing}"


def test_the_layout_names_no_module_that_is_gone() -> None:
    rows = _layout_rows()
    stale = [
        path for path in rows if path.startswith("service/") and not (REPO_ROOT / path).exists()
    ]
    assert not stale, f"docs/architecture.md names what no longer exists: {stale}"
