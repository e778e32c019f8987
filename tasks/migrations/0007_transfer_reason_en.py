"""Existing task rewards get the English text of their ledger reason.

A task reward's transfer stored the task's Chinese title as its reason (points.Transfer.reason); since points 0006
a transfer also has `reason_en`, which the My points page and the API show to English readers. This fills it from
the task's English title for rewards already paid — only where the stored Chinese still equals the task's current
title (a task renamed since keeps a blank English text, so the reader sees the Chinese the reward was paid under).

Transfers are immutable (trigger points_transfer_immutable): points.migration_sql.transfers_backfill lifts the
trigger for this one UPDATE, inside this migration's transaction, and puts it back. Nothing but reason_en changes.
Reversing the migration leaves the texts (an emptied English text would only show the Chinese again).
"""

from django.db import migrations

from points.migration_sql import transfers_backfill

FILL = """
UPDATE points_transfer t
   SET reason_en = left(d.title_en, 100)
  FROM tasks_taskprogress p
  JOIN tasks_taskdefinition d ON d.id = p.task_id
 WHERE p.reward_transfer_id = t.id
   AND t.kind = 'task_reward'
   AND t.reason_en = ''
   AND t.reason = left(d.title, 100)
   AND d.title_en <> ''
"""


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0006_partner_keys_swap"),
        ("points", "0006_open_kinds_reason_en"),
    ]

    operations = [migrations.RunSQL(transfers_backfill(FILL), migrations.RunSQL.noop)]
