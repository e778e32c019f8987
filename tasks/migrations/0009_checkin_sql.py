"""The daily check-in in one SQL call (tasks/sql/tasks_checkin.sql) and the task progress engine in SQL
(tasks/sql/tasks_progress_record.sql), which the check-in calls in the same statement (issue 12: hot paths)."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0008_checkin_created_at_from_now"),
        ("campaigns", "0004_expiry_source_and_demo_texts"),
    ]

    operations = [
        ApplySql(
            "tasks/sql/tasks_progress_record.sql",
            sha256="ee6f41b6f96307618c64e6c8a825d65b898e3c82c10752546814fc60374e43fd",
            reverse_sql=(
                "DROP FUNCTION IF EXISTS tasks_progress_record(bigint, bigint, text, numeric, timestamptz, timestamptz, "
                "integer)"
            ),
        ),
        ApplySql(
            "tasks/sql/tasks_checkin.sql",
            sha256="85c3adea780dd51c0b28fd8db04b8d47e1edbc86e3b4330a1ff6381afde63932",
            reverse_sql="DROP FUNCTION IF EXISTS tasks_checkin(bigint, bigint, timestamptz, integer, integer)",
        ),
    ]
