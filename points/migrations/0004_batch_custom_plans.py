"""Bulk functions take arrays; a cached generic plan guesses 10 elements per array and picks nested loops that
go quadratic at 1,000 awards (measured: 1.3 s instead of 30 ms to resolve 1,000 wallets). Plan them with the
real arrays every time.

The setting is part of each function's definition (`SET plan_cache_mode = force_custom_plan` in its .sql file);
this migration shipped it to databases that already had the functions."""

from django.db import migrations

from config.sqlfiles import ApplySql

BATCH = (
    "points_post_batch(text[], bigint[], bigint[], bigint[], timestamptz[], timestamptz[], text, text, text, "
    "bigint, bigint, timestamptz)"
)
WALLETS = "points_member_accounts(bigint[], text)"


class Migration(migrations.Migration):
    dependencies = [("points", "0003_member_account_find")]

    operations = [
        ApplySql(
            "points/sql/points_post_batch.sql",
            sha256="3434004da6d6d714690bfab4c895abbd733482ca8d31e1e5becc16ec3780f209",
            reverse_sql=f"ALTER FUNCTION {BATCH} RESET plan_cache_mode",
        ),
        ApplySql(
            "points/sql/points_member_accounts.sql",
            sha256="73b429a2369556c0de47ea4b3d892255f282f89194eb8c6066a81069c04ee2ab",
            reverse_sql=f"ALTER FUNCTION {WALLETS} RESET plan_cache_mode",
        ),
    ]
