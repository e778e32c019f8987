"""Hot spins (issue 12): lottery_spin() reads what it enforces from the rows and answers with what the member sees.

1. lottery_spin_status() (new): a member's spin status from the wheel's, the campaign's and the member's rows,
   through lottery_spin_allowance(); the status selector, the wheel API and lottery_spin itself read it.
2. lottery_spin() no longer takes the wheel's caps, free spins, cost, odds version, claim days, names, the
   campaign or the local date from its caller (a configuration cache may hold stale copies): it reads them from
   lottery_wheel and campaigns_campaign, refuses a spin outside the campaign's official phase itself, answers a
   retried key with the whole earlier draw, and returns the member's status for the next spin and spendable
   balance (points_balance). A new signature and return type: the old function is dropped first (IF EXISTS: a
   fresh database installed the new file already, ADR 0004).
"""

from django.db import migrations

from config.sqlfiles import ApplySql

OLD_SPIN_ARGS = (
    "bigint, bigint, text, date, timestamptz, bigint, bytea, bytea, integer, integer, integer, integer, integer, "
    "integer, text, text, text, integer, boolean"
)


class Migration(migrations.Migration):
    dependencies = [
        ("lottery", "0008_draw_reference_player_key"),
        ("points", "0010_points_balance"),
    ]

    operations = [
        ApplySql(
            "lottery/sql/lottery_spin_status.sql",
            sha256="023e97b67379c856c504038ac25ff732fb5c6a65378dc4fdba02ede6c2e64ed0",
            reverse_sql="DROP FUNCTION IF EXISTS lottery_spin_status(bigint, bigint, timestamptz)",
        ),
        migrations.RunSQL(f"DROP FUNCTION IF EXISTS lottery_spin({OLD_SPIN_ARGS})", migrations.RunSQL.noop),
        ApplySql(
            "lottery/sql/lottery_spin.sql", sha256="596071a2ea2b6152833cd79bdd2c20d8e92580f2fe636f784bdbcac0d5605838"
        ),
    ]
