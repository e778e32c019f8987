"""campaign_grant() takes p_available_at (pending points, e.g. a referral reward on hold): a new signature, so the
old one is dropped first (one definition per function, ADR 0004)."""

from django.db import migrations

from config.sqlfiles import ApplySql

OLD = "campaign_grant(text, bigint, bigint, bigint, text, text, integer, text, timestamptz, timestamptz, text)"


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0005_campaign_hold"), ("points", "0013_reversal_takes_pending_lot")]

    operations = [
        migrations.RunSQL(f"DROP FUNCTION IF EXISTS {OLD}", reverse_sql=migrations.RunSQL.noop),
        ApplySql(
            "campaigns/sql/campaign_grant.sql",
            sha256="abd233ef4007cf6125cf52bc21b2041786408dd55b3dad1f89b1b9381de10505",
        ),
    ]
