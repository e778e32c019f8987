"""The check-in records its streak job in the outbox, in the same statement (tasks/sql/tasks_checkin.sql calls
outbox_add(); ADR 0008)."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0009_checkin_sql"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        ApplySql(
            "tasks/sql/tasks_checkin.sql",
            sha256="c382416d3c6a18e9abae8697d9404cfb50ed22fa21930063be58cd3a4ceea5fa",
        ),
    ]
