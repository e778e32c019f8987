"""One index on a transfer's idempotency key, not two (issue 12): Django adds a varchar_pattern_ops copy of every
unique CharField's index for LIKE 'prefix%' queries, which nothing runs on this key; equality look-ups use the unique
index. One index entry fewer per posting (every check-in, spin, order and grant). points_post() no longer looks the
key up before inserting a posting that debits a deferred (system) account: the INSERT's ON CONFLICT finds a replay."""

from django.db import migrations

from config.sqlfiles import ApplySql

LIKE_INDEX = "points_transfer_idempotency_key_602b456c_like"


class Migration(migrations.Migration):
    dependencies = [("points", "0015_partner_payable")]

    operations = [
        migrations.RunSQL(
            f"DROP INDEX IF EXISTS {LIKE_INDEX}",
            reverse_sql=f"CREATE INDEX IF NOT EXISTS {LIKE_INDEX} ON points_transfer (idempotency_key varchar_pattern_ops)",
        ),
        ApplySql(
            "points/sql/points_post.sql", sha256="045dae5b2feb72970fa1b1e4d4171e92a654fcf7453eb29732d3b2f159ea34d2"
        ),
    ]
