"""Every Postgres function and trigger has one current definition in a .sql file, and that is what is installed.

See docs/adr/0004-sql-files.md. The checks live in config/sqlfiles.py so that an operator can run them against a
real database too: `manage.py shell -c "from config.sqlfiles import drift; print(drift())"`.
"""

from __future__ import annotations

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
