"""A campaign's expiry has one source of truth, the campaign's own fields: campaign_save writes the ledger's policy
row and campaigns 0004 re-wrote every row from its campaign. The same migration split the demo history's
"English / 中文" reasons into reason and reason_en."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.db import connection

from campaigns.services import campaign_save
from points.models import ExpiryPolicy, Transfer
from points.services import Member, System, expiry_policy_set, transfer_post

pytestmark = pytest.mark.django_db
MIGRATION = importlib.import_module("campaigns.migrations.0004_expiry_source_and_demo_texts")
NOW = datetime(2026, 5, 10, 4, 0, tzinfo=UTC)


def policy(campaign_id: int | None) -> tuple[str, int | None, str]:
    row = ExpiryPolicy.objects.get(campaign_id=campaign_id, asset_id="PTS")
    return row.rule, row.days, row.timezone


def test_saving_a_campaign_writes_its_policy(make_campaign) -> None:
    campaign = make_campaign(expiry_rule="days", expiry_days=30, timezone="Europe/London")
    assert policy(campaign.pk) == ("days", 30, "Europe/London")
    campaign_save(campaign=campaign, data={"expiry_rule": "month_end"})
    assert policy(campaign.pk) == ("month_end", None, "Europe/London")


def test_the_migration_rewrites_drifted_policies_from_their_campaigns(make_campaign) -> None:
    kept = make_campaign(slug="a", expiry_rule="year_end")
    drifted = make_campaign(slug="b", expiry_rule="days", expiry_days=7)
    expiry_policy_set(campaign_id=None, rule="never")
    # Before, the ledger admin could edit a campaign's row on its own:
    ExpiryPolicy.objects.filter(campaign_id=drifted.pk).update(rule="never", days=None, timezone="UTC")
    ExpiryPolicy.objects.filter(campaign_id=kept.pk).delete()

    MIGRATION.policies_from_campaigns(apps, None)

    assert policy(drifted.pk) == ("days", 7, "Asia/Shanghai")
    assert policy(kept.pk) == ("year_end", None, "Asia/Shanghai")
    assert policy(None) == ("never", None, "Asia/Shanghai")  # the default is the ledger's own: untouched


def test_the_migration_splits_the_demo_reasons_only(member) -> None:
    issuance = System("issuance")
    for key, reason in [("demo:welcome:1", "Welcome gift / 新人礼"), ("other", "A / B")]:
        transfer_post(key=key, debit=issuance, credit=Member(member.pk), amount=1, kind="award", reason=reason, now=NOW)

    with connection.cursor() as cursor:
        for statement in MIGRATION.Migration.operations[1].sql:
            cursor.execute(statement)

    texts = dict(Transfer.objects.values_list("idempotency_key", "reason"))
    english = dict(Transfer.objects.values_list("idempotency_key", "reason_en"))
    assert (texts["demo:welcome:1"], english["demo:welcome:1"]) == ("新人礼", "Welcome gift")
    assert (texts["other"], english["other"]) == ("A / B", "")
