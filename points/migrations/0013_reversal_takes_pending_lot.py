from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("points", "0012_hold_returned")]

    operations = [
        ApplySql(
            "points/sql/points_post.sql", sha256="744e16158518f870fa7a2b8232d5546423ddfebdeb9b7809aeea2546e804b7f8"
        ),
    ]
