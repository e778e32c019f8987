from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [
        ("mall", "0003_catalogue_orders"),
        ("campaigns", "0005_campaign_hold"),
        ("shipments", "0002_cancelled"),
        ("tasks", "0011_checkin_bonus_only_on_milestones"),
    ]

    operations = [
        ApplySql("mall/sql/mall_order_place.sql", sha256="137eab008e38c683b7d1f1a9af489bef12a5a4b96d50133ea0da433eefc7d5db"),
    ]
