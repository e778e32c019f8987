"""lottery_spin answers a new spin with the status computed from the counters it just wrote (no re-read)."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [
        ("lottery", "0012_labels"),
    ]

    operations = [
        ApplySql(
            "lottery/sql/lottery_spin.sql", sha256="5f0adc827a656ccbceb37a8709bf2a5525b799c4a4829f11e6eaf86d0df00462"
        ),
    ]
