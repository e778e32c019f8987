"""The wheel's value passes the campaigns' value gate: lottery_spin() charges the cost through campaign_charge,
pays points prizes through campaign_grant and issues multiplier cards through campaign_multiplier_issue; its caps
and free spins come from lottery_spin_allowance(), which lottery.selectors.spin_status asks too (ADR 0003)."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [
        ("lottery", "0005_delete_fulfilment"),
        ("campaigns", "0003_value_gate_sql"),
    ]

    operations = [
        ApplySql(
            "lottery/sql/lottery_spin_allowance.sql",
            sha256="76d71421e73c4bcc86790785ded1e7f6f4948f27238155794d2c392d69095d6d",
            reverse_sql=(
                "DROP FUNCTION IF EXISTS lottery_spin_allowance(integer, integer, date, date, integer, integer, "
                "integer, integer)"
            ),
        ),
        ApplySql("lottery/sql/lottery_spin.sql", sha256="a5e45bb884a137a473043fd90d790a6be3f97f1fd660af94ba73086bd172ed64"),
    ]
