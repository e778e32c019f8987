"""Postgres functions and triggers live in `<app>/sql/<name>.sql` files; migrations apply them (ADR 0004).

`ApplySql("lottery/sql/lottery_spin.sql", sha256="...")` is a migration operation that reads the file when the
migration runs and executes it with `check_function_bodies = off`, so an old migration may install the newest
body even when that body mentions tables or functions that later migrations create. The file is the one current
definition; `sha256` records which version of the file the migration shipped (tests/test_sql_files.py demands
that the newest migration applying a file pins the file's current hash, so an edited file cannot ship without a
migration).

Print the operation line for a file (no Django settings needed):

    .venv/bin/python -m config.sqlfiles lottery/sql/lottery_spin.sql
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db import connection as default_connection
from django.db import router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation

ROOT = Path(__file__).resolve().parent.parent


def sql_files() -> list[Path]:
    """Every `<app>/sql/*.sql` file of the project, relative to the repository root."""
    return sorted(p.relative_to(ROOT) for p in ROOT.glob("*/sql/*.sql") if not p.parts[-3].startswith("."))


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256((ROOT / path).read_bytes()).hexdigest()


def operation_line(path: str | Path) -> str:
    """The migration operation that ships the file as it is now."""
    return f'ApplySql("{Path(path).as_posix()}", sha256="{file_sha256(path)}")'


class ApplySql(Operation):
    """Execute the current text of a project .sql file (CREATE OR REPLACE FUNCTION/TRIGGER ...).

    `sha256` is the hash of the file this migration shipped; it is not checked at migrate time (an older migration
    on a fresh database installs the newest file), only by tests/test_sql_files.py. `reverse_sql` (optional) is
    run when the migration is unapplied, e.g. the DROP statements of the migration that first created the
    functions; without it the reverse is a no-op (the previous body is in git, not in the file).
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, path: str, *, sha256: str, reverse_sql: str | Sequence[str] | None = None) -> None:
        self.path = path
        self.sha256 = sha256
        self.reverse_sql = reverse_sql

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"sha256": self.sha256}
        if self.reverse_sql is not None:
            kwargs["reverse_sql"] = self.reverse_sql
        return (self.__class__.__name__, [self.path], kwargs)

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if not router.allow_migrate(schema_editor.connection.alias, app_label):
            return
        text = (ROOT / self.path).read_text(encoding="utf-8")
        # SET LOCAL lasts until the migration's transaction ends: put the previous value back afterwards.
        schema_editor.execute(
            "SELECT set_config('pm.check_function_bodies_was', current_setting('check_function_bodies'), true)"
        )
        schema_editor.execute("SET LOCAL check_function_bodies = off")
        schema_editor.execute(text, params=None)
        schema_editor.execute(
            "SELECT set_config('check_function_bodies', current_setting('pm.check_function_bodies_was'), true)"
        )

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if self.reverse_sql is None or not router.allow_migrate(schema_editor.connection.alias, app_label):
            return
        statements = [self.reverse_sql] if isinstance(self.reverse_sql, str) else list(self.reverse_sql)
        for statement in statements:
            schema_editor.execute(statement, params=None)

    def describe(self) -> str:
        return f"Apply {self.path} (sha256 {self.sha256[:12]})"

    @property
    def migration_name_fragment(self) -> str:
        return "sql_" + Path(self.path).stem


# Functions (not aggregates) and user triggers of the public schema, less what an extension owns. A row's xmin
# changes when CREATE OR REPLACE rewrites it, which is how drift() sees what a file defines.
_OBJECTS = """
SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', p.xmin::text,
       pg_get_functiondef(p.oid)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'trigger ' || t.tgname || ' on ' || c.relname, t.xmin::text, pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND NOT t.tgisinternal
"""


def _snapshot(cursor: Any) -> dict[str, tuple[str, str]]:
    cursor.execute(_OBJECTS)
    return {name: (xmin, definition) for name, xmin, definition in cursor.fetchall()}


def drift(connection: BaseDatabaseWrapper | None = None) -> list[str]:
    """What differs between the database's functions/triggers and the .sql files ([] when nothing does).

    Each file is executed inside a savepoint that is rolled back, and the objects it rewrote are compared with
    what was installed before (pg_get_functiondef: body, arguments, volatility, SET options...; pg_get_triggerdef).
    Every project-owned function and trigger must be defined by exactly one file. Nothing is left changed.
    """
    connection = connection or default_connection
    problems: list[str] = []
    defined_by: dict[str, list[str]] = {}
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        installed = _snapshot(cursor)
        for path in sql_files():
            sid = transaction.savepoint(using=connection.alias)
            cursor.execute("SET LOCAL check_function_bodies = off")
            cursor.execute((ROOT / path).read_text(encoding="utf-8"))
            after = _snapshot(cursor)
            transaction.savepoint_rollback(sid, using=connection.alias)
            for name, (xmin, definition) in after.items():
                if name not in installed:
                    problems.append(f"{path} defines {name}, which no migration installed")
                elif xmin != installed[name][0]:
                    defined_by.setdefault(name, []).append(str(path))
                    if definition != installed[name][1]:
                        problems.append(f"{name} as installed differs from {path} (ship the file: ADR 0004)")
        transaction.set_rollback(True, using=connection.alias)
    for name in sorted(installed):
        files = defined_by.get(name, [])
        if len(files) != 1:
            problems.append(f"{name} is defined by {len(files)} .sql files ({', '.join(files) or 'none'}); one, please")
    return problems


def stale_pins(loader: MigrationLoader | None = None) -> list[str]:
    """Files whose newest applying migration (in graph order) does not pin the file's current sha256."""
    loader = loader or MigrationLoader(None, ignore_no_migrations=True)
    graph = loader.graph
    applied_by: dict[str, list[tuple[tuple[str, str], str]]] = {}
    for node in graph.nodes:
        for operation in graph.nodes[node].operations:
            if isinstance(operation, ApplySql):
                applied_by.setdefault(operation.path, []).append((node, operation.sha256))
    problems: list[str] = []
    for path in sorted({p.as_posix() for p in sql_files()} | set(applied_by)):
        if not (ROOT / path).exists():
            problems.append(f"a migration applies {path}, which does not exist")
            continue
        current = file_sha256(path)
        fix = (
            f"add a migration with\n    {operation_line(path)}\n"
            f"(`.venv/bin/python -m config.sqlfiles {path}` prints it; docs/adr/0004-sql-files.md)"
        )
        nodes = applied_by.get(path, [])
        newest = [
            (node, sha)
            for node, sha in nodes
            if not any(other != node and node in graph.forwards_plan(other) for other, _ in nodes)
        ]
        if not nodes:
            problems.append(f"no migration applies {path}: {fix}")
        elif len(newest) > 1:
            names = ", ".join(".".join(node) for node, _ in newest)
            problems.append(f"{path} is applied by unordered migrations ({names}); make one depend on the other")
        elif newest[0][1] != current:
            node, sha = newest[0]
            problems.append(
                f"{path} changed (sha256 {current[:12]}…) but its newest migration {'.'.join(node)} pins "
                f"{sha[:12]}…: {fix}"
            )
    return problems


def main(argv: list[str]) -> int:
    paths = argv or [str(p) for p in sql_files()]
    for path in paths:
        rel = Path(path).resolve().relative_to(ROOT)
        print(operation_line(rel) + ",")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
