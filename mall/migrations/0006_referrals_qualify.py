"""A mall order qualifies an invitee's invite in its own statement (referrals_qualify)."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("mall", "0005_permissions"), ("referrals", "0002_sql")]

    operations = [
        ApplySql(
            "mall/sql/mall_order_place.sql", sha256="7c9a88f3ea24f50e6cc373b8ca2e6a90d5d36b12875ab197a901363367d9e496"
        ),
    ]
