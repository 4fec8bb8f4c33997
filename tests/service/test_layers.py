"""Dependencies run one way (docs/architecture.md): every import of the service, checked.

Imports inside functions count too: a lazy import is still a dependency. Each rule names
a part of the service and the parts it must never import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE = REPO_ROOT / "service"

#: The top of the stack: what assembles, serves and runs the rest.
ASSEMBLY = ("service.app", "service.cli", "service.server", "service.__main__")

#: part -> parts it must not import (prefixes of module names).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "service.errors": ("service",),
    "service.config": ("service",),
    "service.logs": ("service",),
    "service.store": (
        "service.http",
        "service.auth",
        "service.ui",
        "service.artifacts",
        "service.importer",
        "service.gc",
        *ASSEMBLY,
    ),
    "service.artifacts": (
        "service.http",
        "service.auth",
        "service.ui",
        "service.store",
        "service.importer",
        "service.gc",
        "service.config",
        *ASSEMBLY,
    ),
    "service.importer": ("service.http", "service.auth", "service.ui", *ASSEMBLY),
    "service.gc": ("service.http", "service.auth", "service.ui", "service.importer", *ASSEMBLY),
    "service.http": ("service.importer", "service.gc", *ASSEMBLY),
    "service.auth": ("service.http", "service.importer", "service.gc", "service.ui", *ASSEMBLY),
    "service.ui": ("service.store", "service.importer", "service.gc", *ASSEMBLY),
}

#: Handler modules of ``service.http``: the auth guard must reach none of them.
HTTP_HANDLERS = tuple(
    f"service.http.{name}"
    for name in [
        "artifacts",
        "auth",
        "experiments",
        "imports",
        "logged_models",
        "meta",
        "metric_histories",
        "otlp",
        "owned_artifacts",
        "registry",
        "routes",
        "runs",
        "signin",
        "traces",
        "ui_api",
    ]
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every ``service.*`` module ``path`` imports, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # ``from service import auth`` imports the module service.auth.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.startswith("service.")}


def _part(module: str) -> str | None:
    return next(
        (part for part in FORBIDDEN if module == part or module.startswith(f"{part}.")), None
    )


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(f"{prefix}.") for prefix in prefixes)


def _violations() -> list[str]:
    found = []
    for path in sorted(SERVICE.rglob("*.py")):
        module = _module_name(path)
        part = _part(module)
        if part is None:
            continue
        for imported in sorted(_imports(path)):
            for banned in FORBIDDEN[part]:
                if _within(imported, (banned,)):
                    found.append(f"{module} imports {imported} ({part} must not use {banned})")
    return found


def test_dependencies_run_one_way() -> None:
    assert _violations() == []


def test_the_guard_reads_requests_without_handlers() -> None:
    """The guard parses a request with the handlers' messages, never a handler module."""
    graph = {_module_name(path): _imports(path) for path in SERVICE.rglob("*.py")}
    reached: set[str] = set()
    todo = [name for name in graph if _within(name, ("service.http.guard",))]
    while todo:
        for imported in graph.get(todo.pop(), ()):
            if imported in graph and imported not in reached:
                reached.add(imported)
                todo.append(imported)
    assert "service.http.messages.runs" in reached  # the check sees what the guard uses
    assert [m for m in sorted(reached) if _within(m, HTTP_HANDLERS)] == []


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from service.http.routes import build_routes\n")
    assert _imports(module) == {"service.http.routes", "service.http.routes.build_routes"}


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        ("service.store", "service.http"),
        ("service.store.db", "service.app"),
        ("service.artifacts", "service.store"),
        ("service.importer.targets.local", "service.http"),
        ("service.auth.commands", "service.app"),
        ("service.auth.access", "service.http"),
    ],
)
def test_importing_a_lower_layer_loads_nothing_above_it(module: str, absent: str) -> None:
    code = (
        f"import sys, {module}; prefix = {absent!r}; "
        "print(sorted(m for m in sys.modules if m == prefix or m.startswith(prefix + '.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert result.stdout.strip() == "[]"
