"""Member levels (issue 15): mall_order_place() applies the mall discount of the member's current level, read from
the levels tables in the same statement (docs/adr/0010-member-levels.md), and the order keeps its list price and the
discount applied. The function's signature and return type are unchanged (CREATE OR REPLACE; ADR 0004). Orders
placed before have no list price (NULL) and a 0 discount."""

from django.db import migrations, models

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [
        ("mall", "0007_order_place_returns_row"),
        ("levels", "0001_initial"),  # mall_order_place() reads the levels tables
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="discount_percent",
            field=models.DecimalField(
                db_default=0, decimal_places=2, default=0, max_digits=5, verbose_name="member discount (%)"
            ),
        ),
        migrations.AddField(
            model_name="order",
            name="list_points",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="list price (points)"),
        ),
        ApplySql(
            "mall/sql/mall_order_place.sql", sha256="7b5ffb886f8d5e2fad6e4cc0e68f7eba925c12fba34858a949f542dd56cace31"
        ),
    ]
