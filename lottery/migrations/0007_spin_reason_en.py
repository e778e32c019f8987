"""The wheel's ledger texts in both languages.

1. lottery_spin() takes the wheel's English name (`p_reason_en`, the reason members read for a spin's cost) in
   place of `p_prize_expires`: a points prize's expiry is now read inside the call from the campaign's policy
   (points_expiry_at), so a spin no longer asks for it in a round trip of its own. A new argument list is a new
   signature: the old one is dropped first (IF EXISTS: a fresh database installed the new file already, ADR 0004).
2. Spins and points prizes posted before transfers had `reason_en` get it from the wheel's / prize's English name,
   only where the stored Chinese still equals that wheel's / prize's current name (a renamed one keeps a blank
   English text, and readers see the Chinese the points moved under).

Transfers are immutable (trigger points_transfer_immutable): points.migration_sql.transfers_backfill lifts the
trigger for each of the two UPDATEs, inside this migration's transaction, and puts it back. Nothing but reason_en
changes. Unapplying leaves the texts (a blank English text would only show the Chinese again).
"""

from django.db import migrations

from config.sqlfiles import ApplySql
from points.migration_sql import transfers_backfill

OLD_SPIN = (
    "lottery_spin(bigint, bigint, text, date, timestamptz, bigint, bytea, bytea, integer, integer, integer, integer, "
    "integer, integer, text, text, timestamptz, integer, boolean)"
)

SPINS = """
UPDATE points_transfer t
   SET reason_en = left(w.name_en, 100)
  FROM lottery_draw d
  JOIN lottery_wheel w ON w.id = d.wheel_id
 WHERE d.spend_transfer_id = t.id
   AND t.kind = 'spin'
   AND t.reason_en = ''
   AND t.reason = left(w.name, 100)
   AND w.name_en <> ''
"""

PRIZES = """
UPDATE points_transfer t
   SET reason_en = left(p.name_en, 100)
  FROM lottery_draw d
  JOIN lottery_prize p ON p.id = d.prize_id
 WHERE d.prize_transfer_id = t.id
   AND t.kind = 'prize'
   AND t.reason_en = ''
   AND t.reason = left(p.name, 100)
   AND p.name_en <> ''
"""


class Migration(migrations.Migration):
    dependencies = [
        ("lottery", "0006_value_gate_sql"),
        ("points", "0007_reason_en_and_expiry_in_sql"),
    ]

    operations = [
        migrations.RunSQL(f"DROP FUNCTION IF EXISTS {OLD_SPIN}", migrations.RunSQL.noop),
        ApplySql(
            "lottery/sql/lottery_spin.sql", sha256="3722923cac66c2f3c0e7fff395c998adcfe2893288fe4e0ea4f5dd5b2ece6880"
        ),
        migrations.RunSQL(transfers_backfill(SPINS), migrations.RunSQL.noop),
        migrations.RunSQL(transfers_backfill(PRIZES), migrations.RunSQL.noop),
    ]
