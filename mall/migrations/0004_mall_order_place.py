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
        ApplySql("mall/sql/mall_order_place.sql", sha256="c3ac4c606b06ca32d8f3f814b8f0030fa53a6ac757fbbaf5255ffbbfc3ad7283"),
    ]
