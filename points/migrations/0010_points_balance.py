"""A member's balance in one SQL statement (points_balance), for the hot read paths."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("points", "0009_member_accounts_in_order")]

    operations = [
        ApplySql(
            "points/sql/points_balance.sql",
            sha256="82674c8d8d233bcc54495ebe3566b5cc315417d726be29f25b9a3a3310c37315",
        ),
    ]
