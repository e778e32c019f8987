"""A check-in and a completed task qualify an invitee's invite in their own statement (referrals_qualify)."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("tasks", "0011_checkin_bonus_only_on_milestones"), ("referrals", "0002_sql")]

    operations = [
        ApplySql(
            "tasks/sql/tasks_progress_record.sql",
            sha256="3ea0da0269fe2ba7e5778028ed4fab796b1de63303ee8524fd34e5c15086503f",
        ),
        ApplySql(
            "tasks/sql/tasks_checkin.sql", sha256="915880db6cdaa73a8f6bc24211c4144b5f69aeb8a53e086c0842f52022779dfc"
        ),
    ]
