"""Every Postgres function and trigger has one current definition in a .sql file, and that is what is installed.

See docs/adr/0004-sql-files.md. The checks live in config/sqlfiles.py so that an operator can run them against a
real database too: `manage.py shell -c "from config.sqlfiles import drift; print(drift())"`.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from config import sqlfiles
from config.sqlfiles import ApplySql, drift, file_sha256, sql_files, stale_pins


def test_there_are_sql_files_and_each_holds_create_or_replace_only() -> None:
    files = sql_files()
    assert len(files) >= 10
    for path in files:
        text = (sqlfiles.ROOT / path).read_text()
        assert "CREATE OR REPLACE" in text, path
        # CREATE without OR REPLACE would fail the second time a file is applied.
        assert "CREATE FUNCTION" not in text, path
        assert "CREATE TRIGGER" not in text, path


@pytest.mark.django_db
def test_every_function_and_trigger_is_defined_by_exactly_one_file_and_installed_as_written() -> None:
    assert drift() == []


@pytest.mark.django_db
def test_drift_sees_a_body_that_differs_from_its_file_and_a_function_without_a_file() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION tasks_event_counted(p_campaign bigint, p_type text) RETURNS boolean "
            "LANGUAGE sql STABLE AS $$ SELECT true $$"
        )
        cursor.execute("CREATE FUNCTION stray_helper() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$")
    problems = drift()
    assert any("tasks_event_counted(p_campaign bigint, p_type text) as installed differs" in p for p in problems)
    assert any("stray_helper() is defined by 0 .sql files" in p for p in problems)


def test_the_newest_migration_applying_each_file_pins_its_current_hash() -> None:
    assert stale_pins() == []


def test_an_edited_file_without_a_migration_is_reported_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    path = "tasks/sql/tasks_event_counted.sql"
    real = file_sha256

    def edited(p: object) -> str:
        return "0" * 64 if str(p) == path else real(p)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlfiles, "file_sha256", edited)
    problems = stale_pins(MigrationLoader(None, ignore_no_migrations=True))
    assert len(problems) == 1
    assert problems[0].startswith(f"{path} changed")
    assert f'ApplySql("{path}", sha256="{"0" * 64}")' in problems[0]
    assert "python -m config.sqlfiles" in problems[0]


def test_apply_sql_deconstructs_for_the_migration_writer() -> None:
    op = ApplySql("points/sql/points_rollup.sql", sha256="ab" * 32)
    assert op.deconstruct() == ("ApplySql", ["points/sql/points_rollup.sql"], {"sha256": "ab" * 32})
    assert "points_rollup.sql" in op.describe()


# LANGUAGE sql functions that Postgres plans afresh on every call and may: a job's one statement, not a hot path.
PLANNED_PER_CALL = {"points_rollup"}


@pytest.mark.django_db
def test_sql_language_functions_are_inlinable_or_set_returning() -> None:
    """Postgres (before 18) plans a LANGUAGE sql function that it cannot inline afresh in every transaction that calls
    it (a PL/pgSQL caller included); PL/pgSQL keeps its plans for the session. tasks_milestone_reached written as a SQL
    query cost 0.18 ms of each check-in's 1.0 ms of Postgres CPU. A scalar SQL function is inlined only when its body
    is one SELECT without FROM; a set-returning one, when it is called in FROM (ADR 0004)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT p.proname, p.proretset, p.prosrc FROM pg_proc p
                 JOIN pg_namespace n ON n.oid = p.pronamespace
                 JOIN pg_language l ON l.oid = p.prolang
                WHERE n.nspname = 'public' AND l.lanname = 'sql'"""
        )
        functions = cursor.fetchall()
    assert functions, "no LANGUAGE sql function installed: the query above is wrong"
    planned = sorted(
        name
        for name, returns_set, body in functions
        if not returns_set and name not in PLANNED_PER_CALL and re.search(r"\b(from|with)\b", body, re.IGNORECASE)
    )
    assert planned == [], f"write these in PL/pgSQL (or as one SELECT without FROM): {planned}"
