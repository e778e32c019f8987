"""A member's balance in one SQL statement (points_balance), for the hot read paths."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("points", "0009_member_accounts_in_order")]

    operations = [
        ApplySql(
            "points/sql/points_balance.sql",
            sha256="e040ef76d7f410a536030411e8ef5de5e33ca809083dbb6bb2e9883b2ced28a9",
        ),
    ]
