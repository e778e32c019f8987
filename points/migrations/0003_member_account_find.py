from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("points", "0002_sql")]

    operations = [
        ApplySql(
            "points/sql/points_member_account_find.sql",
            sha256="92ccd03b90ab37ab8e87975db478663690faaa5e32a5e9a584264c81dbdd12f7",
            reverse_sql="DROP FUNCTION IF EXISTS points_member_account_find(bigint, text)",
        ),
    ]
