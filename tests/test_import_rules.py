"""Import rules of the application code (issue 9: no hidden cycles).

- No import cycle between application modules, counting imports inside functions too (a cycle kept quiet by a
  function-level import is still a cycle).
- Imports sit at the top of a module (ruff PLC0415); the few exceptions say why on the same line.
- config's plumbing (error shape, API helpers, forms, i18n, SQL files) imports no app: apps build on config,
  never the reverse. Only the URL roots wire the apps together."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {"tests", "bench", "migrations", ".venv", ".tools", "node_modules", "static", "templates", "locale"}
CONFIG_WIRING = {"config.urls", "config.api_urls", "config.celery", "config", "config.wsgi"}


def _app_modules() -> dict[str, Path]:
    packages = [p.parent for p in ROOT.glob("*/__init__.py") if p.parent.name not in SKIP_DIRS]
    modules: dict[str, Path] = {}
    for package in packages:
        for path in package.rglob("*.py"):
            if SKIP_DIRS & set(path.relative_to(ROOT).parts):
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


def _imports(path: Path) -> set[str]:
    """Every module named by an import anywhere in the file (module level or inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _graph() -> dict[str, set[str]]:
    modules = _app_modules()
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_application_modules() -> None:
    graph = _graph()
    assert "tasks.checkins" in graph  # the walk found the apps
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function() -> None:
    graph = {"a.services": {"a.jobs"}, "a.jobs": {"a.services"}, "a.models": set()}
    assert _cycles(graph) == [["a.jobs", "a.services"]]


def test_every_import_inside_a_function_says_why() -> None:
    unexplained = []
    for name, path in _app_modules().items():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "noqa: PLC0415" in line and not re.search(r"noqa: PLC0415\s*[—-]+\s*\S", line):
                unexplained.append(f"{name}:{number}")
    assert unexplained == []


def test_config_plumbing_imports_no_app() -> None:
    graph = _graph()
    offenders = {
        module: sorted(target for target in targets if not target.startswith("config"))
        for module, targets in graph.items()
        if module.startswith("config") and module not in CONFIG_WIRING
    }
    assert {module: targets for module, targets in offenders.items() if targets} == {}
