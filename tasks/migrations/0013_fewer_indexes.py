"""Fewer index entries per check-in (issue 12): the campaign index of check-ins and the task and member indexes of
task progress duplicated the leading column of a unique constraint or another index. A window's first action makes its
progress row already counting it (tasks_progress_record: no look-up, lock and update after the insert), and a check-in
row is written once, with its transfer (tasks_checkin posts the points first, under the id taken in advance)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_grant_available_at"),
        ("tasks", "0012_referrals_qualify"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="checkin",
            name="campaign",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="checkins",
                to="campaigns.campaign",
            ),
        ),
        migrations.AlterField(
            model_name="taskprogress",
            name="task",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="progress",
                to="tasks.taskdefinition",
            ),
        ),
        migrations.AlterField(
            model_name="taskprogress",
            name="user",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="task_progress",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        ApplySql(
            "tasks/sql/tasks_progress_record.sql",
            sha256="ea4f5a910a7a0c9f93b7e0e8053fe7f15c8484563cdf94992a49294f31e82150",
        ),
        ApplySql(
            "tasks/sql/tasks_checkin.sql", sha256="660214c04f3880cf3972465c51d263f1f5481b2a164edb210e6bd40e53e74521"
        ),
    ]
