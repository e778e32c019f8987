"""Ship the bilingual reason and the one expiry rule to the database.

- points_post() and points_post_batch() take `p_reason_en` (last, DEFAULT '': callers written before it, such as
  other apps' SQL functions, keep working). A new argument is a new signature, so the old ones are dropped first
  (IF EXISTS: on a fresh database the older migrations already installed the new files, ADR 0004).
- points_expiry_at() is new: the expiry rule, read from points_expirypolicy inside the posting's statement (it
  replaces points.services' per-process 30-second policy cache and its Python twin of the rule).
- ExpiryPolicy.rule may only hold the rules points_expiry_at() knows.
"""

from django.db import migrations, models

from config.sqlfiles import ApplySql

OLD_POST = (
    "points_post(text, text, bigint, bigint, bigint, text, text, bigint, integer, text, bigint, bigint, timestamptz, "
    "timestamptz, timestamptz, bigint)"
)
OLD_BATCH = (
    "points_post_batch(text[], bigint[], bigint[], bigint[], timestamptz[], timestamptz[], text, text, text, bigint, "
    "bigint, timestamptz)"
)


class Migration(migrations.Migration):
    dependencies = [("points", "0006_open_kinds_reason_en")]

    operations = [
        migrations.RunSQL(
            [f"DROP FUNCTION IF EXISTS {OLD_POST}", f"DROP FUNCTION IF EXISTS {OLD_BATCH}"], migrations.RunSQL.noop
        ),
        ApplySql("points/sql/points_post.sql", sha256="0e8e9c581fb0f8a07cacedd437e73f9030bbcdcfb42ddbd9e79e2824ef9344bc"),
        ApplySql(
            "points/sql/points_post_batch.sql", sha256="c67f0959da28fb5bb47005ce1f826640551dfd25f8be2d59d4cf0e99ee23abff"
        ),
        ApplySql(
            "points/sql/points_expiry_at.sql",
            sha256="a1e3821a85c2a57a20e601ae599265613862a925e8cbb28e27f1eb552c08fea3",
            reverse_sql="DROP FUNCTION IF EXISTS points_expiry_at(bigint, text, timestamptz)",
        ),
        migrations.AddConstraint(
            model_name="expirypolicy",
            constraint=models.CheckConstraint(
                condition=models.Q(rule__in=["never", "days", "month_end", "year_end"]),
                name="expiry_policy_rule_known",
            ),
        ),
    ]
