from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0004_expiry_source_and_demo_texts"), ("points", "0011_points_hold_place")]

    operations = [
        ApplySql(
            "campaigns/sql/campaign_hold.sql", sha256="bb3826f9f616a99200a06b7fcb22eb15c029a7de426b06103d74f606b613346a"
        ),
    ]
