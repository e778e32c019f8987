"""Expiry has one source of truth, and the demo history reads in both languages.

1. A campaign's points expire as its own fields say (`expiry_rule`, `expiry_days`, `timezone`); the ledger's
   policy row for the campaign mirrors them and is written only by campaign_save (the ledger admin now shows it
   read-only). Until now both were editable, so they could disagree: this re-writes every campaign's policy row
   from the campaign — the campaign wins. (The default policy, no campaign, is the ledger's and is left alone.)
2. seed_demo wrote the demo member's reasons as "English / 中文" in one text; it now writes reason and reason_en.
   Demo transfers already written (keys "demo:…") are split the same way. Transfers are immutable (trigger
   points_transfer_immutable): points.migration_sql.transfers_backfill lifts the trigger for that one UPDATE,
   inside this migration's transaction, and puts it back. Only the demo rows' texts change.
"""

from django.db import migrations

from points.migration_sql import transfers_backfill

DEMO_TEXTS = """
UPDATE points_transfer
   SET reason_en = split_part(reason, ' / ', 1), reason = split_part(reason, ' / ', 2)
 WHERE idempotency_key LIKE 'demo:%'
   AND reason_en = ''
   AND reason LIKE '% / %'
"""


def policies_from_campaigns(apps, schema_editor):
    campaign_model = apps.get_model("campaigns", "Campaign")
    policy_model = apps.get_model("points", "ExpiryPolicy")
    for campaign in campaign_model.objects.all():
        policy_model.objects.update_or_create(
            campaign_id=campaign.pk,
            asset_id="PTS",
            defaults={
                "rule": campaign.expiry_rule,
                "days": campaign.expiry_days if campaign.expiry_rule == "days" else None,
                "timezone": campaign.timezone,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0003_value_gate_sql"),
        ("points", "0007_reason_en_and_expiry_in_sql"),
    ]

    operations = [
        migrations.RunPython(policies_from_campaigns, migrations.RunPython.noop),
        migrations.RunSQL(transfers_backfill(DEMO_TEXTS), migrations.RunSQL.noop),
    ]
