"""Bulk functions take arrays; a cached generic plan guesses 10 elements per array and picks nested loops that
go quadratic at 1,000 awards (measured: 1.3 s instead of 30 ms to resolve 1,000 wallets). Plan them with the
real arrays every time."""

from django.db import migrations

BATCH = ("points_post_batch(text[], bigint[], bigint[], bigint[], timestamptz[], timestamptz[], text, text, text, "
         "bigint, bigint, timestamptz)")
WALLETS = "points_member_accounts(bigint[], text)"


class Migration(migrations.Migration):
    dependencies = [("points", "0003_member_account_find")]

    operations = [
        migrations.RunSQL(
            [f"ALTER FUNCTION {BATCH} SET plan_cache_mode = force_custom_plan",
             f"ALTER FUNCTION {WALLETS} SET plan_cache_mode = force_custom_plan"],
            [f"ALTER FUNCTION {BATCH} RESET plan_cache_mode", f"ALTER FUNCTION {WALLETS} RESET plan_cache_mode"],
        ),
    ]
