"""The ledger knows no product: points/ imports no other project app (accounts only through its selectors), its
templates load, include and link nothing of another app, and its SQL touches no other app's tables. Other apps
plug in through points.kinds (transfer kinds) and points.panels (My points panels)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
POINTS = ROOT / "points"
TEMPLATES = ROOT / "templates" / "points"
ALLOWED_MODULES = {"accounts.selectors"}  # the one door into another app


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def other_apps() -> set[str]:
    """Labels of the project's own apps (those living in this repository), points excepted."""
    return {
        config.name
        for config in apps.get_app_configs()
        if Path(config.path).resolve().parent == ROOT.resolve() and config.name != "points"
    }


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):  # also imports inside functions
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in {
            "import_module",
            "import_string",
            "get_model",
        }:
            found += [
                (node.lineno, arg.value.replace(":", "."))
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            ]
    return found


def foreign(module: str, others: set[str]) -> bool:
    top = module.split(".", maxsplit=1)[0]
    if top not in others:
        return False
    return not any(module == allowed or module.startswith(f"{allowed}.") for allowed in ALLOWED_MODULES)


def python_violations(root: Path, others: set[str]) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        for line, module in imported_modules(path):
            if foreign(module, others):
                problems.append(f"{shown(path)}:{line} imports {module}")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = re.match(r"^([a-z_]+):[a-z_-]+$", node.value)  # a URL name such as "campaigns:detail"
                if match and match.group(1) in others:
                    problems.append(f"{shown(path)}:{node.lineno} names the URL {node.value}")
    return problems


def template_libraries(others: set[str]) -> dict[str, str]:
    """Template tag library name -> the app that provides it."""
    libraries = {}
    for label in others:
        for module in (ROOT / label / "templatetags").glob("*.py"):
            if module.stem != "__init__":
                libraries[module.stem] = label
    return libraries


def template_violations(root: Path, others: set[str]) -> list[str]:
    libraries = template_libraries(others)
    problems = []
    for path in sorted(root.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        where = shown(path)
        for match in re.finditer(r"{%\s*load\s+([^%]+?)\s*%}", text):
            names = match.group(1).split()
            if "from" in names:  # {% load tag from library %}
                names = names[names.index("from") + 1 :]
            problems += [f"{where} loads {name} ({libraries[name]})" for name in names if name in libraries]
        for match in re.finditer(r"{%\s*(?:include|extends)\s+[\"']([^\"']+)[\"']", text):
            if match.group(1).split("/")[0] in others:
                problems.append(f"{where} includes {match.group(1)}")
        for match in re.finditer(r"{%\s*url\s+[\"']([a-z_]+):", text):
            if match.group(1) in others:
                problems.append(f"{where} links to {match.group(1)}:")
    return problems


def sql_violations(root: Path, others: set[str]) -> list[str]:
    tables = re.compile(r"\b(" + "|".join(sorted(others)) + r")_[a-z]\w*")
    problems = []
    for path in sorted(root.rglob("*.sql")):
        problems += [f"{shown(path)} uses {m.group(0)}" for m in tables.finditer(path.read_text(encoding="utf-8"))]
    return problems


def test_points_imports_no_other_app() -> None:
    others = other_apps()
    assert {"campaigns", "tasks", "lottery", "mall"} <= others  # the scan knows the apps it guards against
    assert python_violations(POINTS, others) == []


def test_points_templates_reference_no_other_app() -> None:
    assert TEMPLATES.is_dir()
    assert template_violations(TEMPLATES, other_apps()) == []


def test_points_sql_touches_no_other_app() -> None:
    assert sql_violations(POINTS / "sql", other_apps()) == []


def test_the_scans_catch_what_they_guard_against(tmp_path: Path) -> None:
    """Each check fails on a file that breaks the rule (so the tests above could fail)."""
    others = other_apps()
    (tmp_path / "a.py").write_text(
        "from campaigns.selectors import x\nimport lottery.models\nfrom accounts.selectors import ok\n"
        "def f():\n    from tasks import kinds\n    return reverse('campaigns:detail')\n"
        "from accounts.models import User\n"
    )
    found = sorted(problem.split(" ", 1)[1] for problem in python_violations(tmp_path, others))
    assert found == [
        "imports accounts.models.User",
        "imports campaigns.selectors.x",
        "imports lottery.models",
        "imports tasks.kinds",
        "names the URL campaigns:detail",
    ]
    (tmp_path / "t.html").write_text(
        '{% load i18n campaign_tags %}{% include "campaigns/_x.html" %}{% url "lottery:wheel" 1 %}'
    )
    assert len(template_violations(tmp_path, others)) == 3
    (tmp_path / "f.sql").write_text("SELECT 1 FROM lottery_draw JOIN points_transfer t ON true;")
    assert sql_violations(tmp_path, others) == ["f.sql uses lottery_draw"]
