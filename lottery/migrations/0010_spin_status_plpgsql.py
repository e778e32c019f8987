"""lottery_spin_status() in PL/pgSQL: its plan is cached per connection (as SQL it was inlined and planned again on
every call; the wheel API's live read went from ~1.1 ms to ~0.55 ms)."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("lottery", "0009_spin_reads_its_rules")]

    operations = [
        ApplySql(
            "lottery/sql/lottery_spin_status.sql",
            sha256="992c7aaa0850eab88b85368ef24c34231cab79a72760e2e6fdda89d158b5ec09",
        )
    ]
