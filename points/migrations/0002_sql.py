"""The ledger's rules that live in Postgres: immutability triggers and the posting functions (points/sql/*.sql).

points_post() does a whole posting in one round trip: claim the idempotency key, lock the member accounts
involved (in id order), consume lots soonest-expiring first, update member balances, append deltas for
deferred (system) accounts and create the credit lot. Errors are raised with SQLSTATEs PM001..PM099 that
points.services maps onto domain errors; the raise rolls the whole posting back.
"""

from django.db import migrations

from config.sqlfiles import ApplySql

# Everything here that is not a function or trigger; the functions and triggers are the files applied below.
SQL = r"""
-- Room on each page for HOT updates of balances (no index entries, less WAL per posting).
ALTER TABLE points_account SET (fillfactor = 80);
"""


def seed_assets(apps, schema_editor):
    asset = apps.get_model("points", "Asset")
    asset.objects.get_or_create(code="PTS", defaults={"name": "Points", "minor_units": 0})
    asset.objects.get_or_create(code="CNY", defaults={"name": "Renminbi (fen)", "minor_units": 2})


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [
        migrations.RunSQL(SQL, migrations.RunSQL.noop),
        ApplySql(
            "points/sql/points_forbid_change.sql",
            sha256="66b6ef938f933aa34c0629fc3e47c8da6ad0f89fad2f359d35104cce2eae22c8",
            reverse_sql=[
                "DROP TRIGGER IF EXISTS points_lot_no_delete ON points_lot",
                "DROP TRIGGER IF EXISTS points_account_no_delete ON points_account",
                "DROP TRIGGER IF EXISTS points_consumption_immutable ON points_lotconsumption",
                "DROP TRIGGER IF EXISTS points_transfer_immutable ON points_transfer",
                "DROP FUNCTION IF EXISTS points_forbid_change()",
            ],
        ),
        ApplySql(
            "points/sql/points_lot_guard.sql",
            sha256="1b1782e3e9d1168b8e6d4087618866870c804d80633780999d914ecb63624c98",
            reverse_sql=[
                "DROP TRIGGER IF EXISTS points_lot_guard ON points_lot",
                "DROP FUNCTION IF EXISTS points_lot_guard()",
            ],
        ),
        ApplySql(
            "points/sql/points_member_account.sql",
            sha256="8c447f3f49ffbe55b2b41426c6f581be5e71c325b2d090a67949a41b635d7e28",
            reverse_sql="DROP FUNCTION IF EXISTS points_member_account(bigint, text)",
        ),
        ApplySql(
            "points/sql/points_member_accounts.sql",
            sha256="73b429a2369556c0de47ea4b3d892255f282f89194eb8c6066a81069c04ee2ab",
            reverse_sql="DROP FUNCTION IF EXISTS points_member_accounts(bigint[], text)",
        ),
        ApplySql(
            "points/sql/points_system_account.sql",
            sha256="ad106bf2429d8047144774bf4549d908cf180d60fa9a959fd62dc44b88a06f99",
            reverse_sql="DROP FUNCTION IF EXISTS points_system_account(text, text, bigint, text)",
        ),
        ApplySql(
            "points/sql/points_post.sql",
            sha256="5499e407d0ec40fbb1f93b6acc58067832edd0247bfd40c1ca024b47733cee00",
            reverse_sql=(
                "DROP FUNCTION IF EXISTS points_post(text, text, bigint, bigint, bigint, text, text, bigint, integer, "
                "text, bigint, bigint, timestamptz, timestamptz, timestamptz, bigint)"
            ),
        ),
        ApplySql(
            "points/sql/points_post_batch.sql",
            sha256="3434004da6d6d714690bfab4c895abbd733482ca8d31e1e5becc16ec3780f209",
            reverse_sql=(
                "DROP FUNCTION IF EXISTS points_post_batch(text[], bigint[], bigint[], bigint[], timestamptz[], "
                "timestamptz[], text, text, text, bigint, bigint, timestamptz)"
            ),
        ),
        ApplySql(
            "points/sql/points_rollup.sql",
            sha256="81a793e5fe07b372bf2f66fdf51679bc10eb86c24248e5eeeb6e1e28a60acd10",
            reverse_sql="DROP FUNCTION IF EXISTS points_rollup()",
        ),
        migrations.RunPython(seed_assets, migrations.RunPython.noop),
    ]
