"""tasks_milestone_reached and tasks_event_counted in PL/pgSQL (issue 12): Postgres (before 18) plans a LANGUAGE sql
function that it cannot inline afresh in every transaction that calls it; PL/pgSQL keeps its plans for the session.
The milestone check was 0.18 ms of each check-in's 1.0 ms of Postgres CPU; the event check runs in every spin and
order. Same answers (tests/tasks/test_milestone_sql.py compares the milestone check with its Python twin)."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("tasks", "0013_fewer_indexes")]

    operations = [
        ApplySql(
            "tasks/sql/tasks_milestone_reached.sql",
            sha256="98a4073bdd7df4bd738f00f6d6cbb9fea980e8f970ec73ad7abe6a2d86303f8f",
        ),
        ApplySql(
            "tasks/sql/tasks_event_counted.sql",
            sha256="f8d2989217591136bee46fb0f81c7c66d86ebd7aec93f415d6099fe15de24514",
        ),
    ]
