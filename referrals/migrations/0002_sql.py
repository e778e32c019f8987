from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
        ("tasks", "0011_checkin_bonus_only_on_milestones"),
        ("outbox", "0001_initial"),
        ("campaigns", "0006_grant_available_at"),
    ]

    operations = [
        ApplySql("referrals/sql/referrals_reward.sql", sha256="b153ef547b350e74ec47f45d4cb6a893aedabe47f9e53ca9a980e8f4a930a43f"),
        ApplySql("referrals/sql/referrals_qualify.sql", sha256="019598d04401c0294481e4a26a676208df22769f5828f6d88d5380005134960c"),
    ]
