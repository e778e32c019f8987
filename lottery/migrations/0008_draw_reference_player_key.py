"""Fairness without exposure (issue 10).

1. Every draw gets a public `reference` (32 random hex characters, unique): the fairness page and API look draws up
   by it instead of by their sequential id. Adding the column evaluates its volatile default once per existing row,
   so every old draw gets its own reference here.
2. Every member's counter row on a wheel gets a random `player_key`, and draws record the key they used: from now on
   a spin's HMAC message is "<player_key>:<n>" instead of "<member id>:<n>", so anyone given a draw's reference can
   recompute it after the seed is revealed without learning who made it. Draws made before this migration keep a
   blank `player_key`: their message stays "<member id>:<n>" and only their member is shown that input.
3. lottery_roll() takes the player key (text) instead of the member id: a new signature, so the old one is dropped
   first (IF EXISTS: a fresh database installed the new file already, ADR 0004); lottery_spin() returns the draw's
   reference and player key too, a new return type, so it is dropped and re-created as well.
"""

from django.db import migrations, models

import lottery.models
from config.sqlfiles import ApplySql

SPIN_ARGS = (
    "bigint, bigint, text, date, timestamptz, bigint, bytea, bytea, integer, integer, integer, integer, integer, "
    "integer, text, text, text, integer, boolean"
)


class Migration(migrations.Migration):
    dependencies = [
        ("lottery", "0007_spin_reason_en"),
    ]

    operations = [
        migrations.AddField(
            model_name="draw",
            name="player_key",
            field=models.CharField(
                blank=True, db_default="", default="", editable=False, max_length=32, verbose_name="player key"
            ),
        ),
        migrations.AddField(
            model_name="draw",
            name="reference",
            field=models.CharField(
                db_default=lottery.models.RandomHex(),
                editable=False,
                max_length=32,
                verbose_name="reference",
            ),
        ),
        migrations.AddConstraint(
            model_name="draw",
            constraint=models.UniqueConstraint(fields=("reference",), name="draw_reference_unique"),
        ),
        migrations.AddField(
            model_name="wheelplayer",
            name="player_key",
            field=models.CharField(
                db_default=lottery.models.RandomHex(), editable=False, max_length=32, verbose_name="player key"
            ),
        ),
        migrations.RunSQL(f"DROP FUNCTION IF EXISTS lottery_spin({SPIN_ARGS})", migrations.RunSQL.noop),
        migrations.RunSQL(
            "DROP FUNCTION IF EXISTS lottery_roll(bytea, bytea, bigint, integer, bigint)", migrations.RunSQL.noop
        ),
        ApplySql(
            "lottery/sql/lottery_roll.sql", sha256="80381b27abac66f897636079db7296a2b85fe9ef15acd1724a989a55ef8568f5"
        ),
        ApplySql(
            "lottery/sql/lottery_spin.sql", sha256="b2e982bcf8e7b3e8bed0bb947d305f3d70ce553d122a556c4970e3ed62675606"
        ),
    ]
