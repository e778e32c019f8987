"""A check-in records its streak job only when the new streak reaches a milestone (tasks_milestone_reached, the SQL
twin of tasks.rules.milestone_reached); tasks_checkin() says so in a new column, o_bonus, so its return type changes
and the old function is dropped first (IF EXISTS: a fresh database installed the new file already, ADR 0004)."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("tasks", "0010_checkin_outbox")]

    operations = [
        ApplySql(
            "tasks/sql/tasks_milestone_reached.sql",
            sha256="c3d382254709e51170234c1a5e7214b0ed4a9d2673b863f00d99a2cb19b5e5e7",
        ),
        migrations.RunSQL(
            "DROP FUNCTION IF EXISTS tasks_checkin(bigint, bigint, timestamptz, integer, integer)",
            migrations.RunSQL.noop,
        ),
        ApplySql(
            "tasks/sql/tasks_checkin.sql", sha256="f02e80d9ab5900e08e3c72c9b33b13de214bc695e2339ebe1a914f3c36ca8b71"
        ),
    ]
