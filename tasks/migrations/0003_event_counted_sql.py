"""tasks_event_counted() (tasks/sql/tasks_event_counted.sql): whether an active task of a campaign counts an event
type, for callers that work in SQL."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("tasks", "0002_task_challenges")]

    operations = [
        ApplySql(
            "tasks/sql/tasks_event_counted.sql",
            sha256="d6c67c5c9e9b75b20c84ce64fe19cc036a60699912aeccc9b1678020b3343fa8",
            reverse_sql="DROP FUNCTION IF EXISTS tasks_event_counted(bigint, text)",
        ),
    ]
