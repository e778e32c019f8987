"""mall_order_place() returns the order row and its code too: a new return type, so the old function is dropped
first (one definition per function, ADR 0004)."""

from django.db import migrations

from config.sqlfiles import ApplySql

OLD = "mall_order_place(bigint, bigint, text, text, integer, text, text, timestamptz, integer, integer)"


class Migration(migrations.Migration):
    dependencies = [("mall", "0006_referrals_qualify")]

    operations = [
        migrations.RunSQL(f"DROP FUNCTION IF EXISTS {OLD}", reverse_sql=migrations.RunSQL.noop),
        ApplySql(
            "mall/sql/mall_order_place.sql", sha256="da3326c1e549ad2cf785f13e8a2b6e00802356dd02796971385d765696af4abf"
        ),
    ]
