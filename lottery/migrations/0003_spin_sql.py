"""A whole spin in one SQL call (lottery/sql/lottery_spin.sql), with the draw done in Postgres
(lottery_hmac, lottery_accept, lottery_roll: the algorithm of lottery/fairness.py)."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [
        ("lottery", "0002_draw_lean_indexes"),
        ("points", "0004_batch_custom_plans"),
        ("mall", "0001_initial"),
        ("campaigns", "0002_multipliercard"),
        ("tasks", "0003_event_counted_sql"),
    ]

    operations = [
        ApplySql(
            "lottery/sql/lottery_hmac.sql",
            sha256="dfb809ac492ca77a07483e86de02f6bb76463ddbf78f2c247ece0c8cf6c6a049",
            reverse_sql="DROP FUNCTION IF EXISTS lottery_hmac(bytea, bytea, text)",
        ),
        ApplySql(
            "lottery/sql/lottery_accept.sql",
            sha256="f80b32a043993092aa0bfe47742d71627805e319c3eec0e39c05beb071bba395",
            reverse_sql="DROP FUNCTION IF EXISTS lottery_accept(bytea, bigint)",
        ),
        ApplySql(
            "lottery/sql/lottery_roll.sql",
            sha256="53fbcf50eb57b91458a81da187e8e2872108deb7b86fa77e0df9ef3fea1670f4",
            reverse_sql="DROP FUNCTION IF EXISTS lottery_roll(bytea, bytea, bigint, integer, bigint)",
        ),
        ApplySql(
            "lottery/sql/lottery_spin.sql",
            sha256="e56be4d1f6002cb175c460da495d20c26ff02a558536838e7038a3ee1b4f1d16",
            reverse_sql=(
                "DROP FUNCTION IF EXISTS lottery_spin(bigint, bigint, text, date, timestamptz, bigint, bytea, bytea, "
                "integer, integer, integer, integer, integer, integer, text, text, timestamptz, integer, boolean)"
            ),
        ),
    ]
