from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("points", "0010_points_balance")]

    operations = [
        ApplySql(
            "points/sql/points_hold_place.sql",
            sha256="2f997382228a18ee235b90ac5fff1cd6a538e707602561b31d77c8b7e95e7866",
        ),
    ]
