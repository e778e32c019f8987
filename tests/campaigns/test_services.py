"""campaign_validate / campaign_save: operator-readable errors, one featured campaign, ledger expiry policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.models import Campaign, ExpiryRule, Phase
from campaigns.services import campaign_save
from points.models import ExpiryPolicy
from tests.campaigns.conftest import DAY, campaign_data

pytestmark = pytest.mark.django_db


def test_misordered_phases_give_field_errors_and_save_nothing() -> None:
    now = timezone.now()
    data = campaign_data(
        warmup_starts_at=now + 2 * DAY,  # after the official start
        official_starts_at=now,
        followup_starts_at=now,  # not after the official start
        ends_at=now - DAY,  # before the follow-up
    )
    with pytest.raises(ValidationError) as exc:
        campaign_save(data=data)
    assert set(exc.value.message_dict) == {"warmup_starts_at", "followup_starts_at", "ends_at"}
    assert not Campaign.objects.exists()
    assert not ExpiryPolicy.objects.filter(campaign_id__isnull=False).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"rules": "  \n "}, "rules"),
        ({"expiry_rule": ExpiryRule.DAYS, "expiry_days": None}, "expiry_days"),
    ],
)
def test_other_invalid_input_is_refused_per_field(overrides: dict, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        campaign_save(data=campaign_data(**overrides))
    assert list(exc.value.message_dict) == [field]
    assert not Campaign.objects.exists()


def test_zero_length_warmup_and_followup_are_allowed() -> None:
    now = timezone.now()
    campaign = campaign_save(
        data=campaign_data(
            warmup_starts_at=now, official_starts_at=now, followup_starts_at=now + DAY, ends_at=now + DAY
        )
    )
    assert campaign.phase_at(now) == Phase.OFFICIAL


def test_only_one_campaign_is_featured() -> None:
    first = campaign_save(data=campaign_data(slug="first", is_featured=True))
    second = campaign_save(data=campaign_data(slug="second", is_featured=True))
    first.refresh_from_db()
    assert (first.is_featured, second.is_featured) == (False, True)
    assert list(Campaign.objects.filter(is_featured=True)) == [second]
    # Editing the un-featured one without featuring it leaves the featured one alone.
    campaign_save(campaign=first, data={"theme": "new theme"})
    assert list(Campaign.objects.filter(is_featured=True)) == [second]


def test_expiry_policy_follows_the_campaign() -> None:
    campaign = campaign_save(data=campaign_data(expiry_rule=ExpiryRule.DAYS, expiry_days=30, timezone="Europe/Berlin"))
    policy = ExpiryPolicy.objects.get(campaign_id=campaign.pk, asset_id="PTS")
    assert (policy.rule, policy.days, policy.timezone) == ("days", 30, "Europe/Berlin")
    campaign_save(campaign=campaign, data={"expiry_rule": ExpiryRule.MONTH_END, "expiry_days": 30})
    policy.refresh_from_db()
    assert (policy.rule, policy.days) == ("month_end", None)
    campaign.refresh_from_db()
    assert campaign.expiry_days is None
    assert ExpiryPolicy.objects.filter(campaign_id=campaign.pk).count() == 1


def test_phase_at_each_boundary() -> None:
    now = timezone.now()
    c = Campaign(
        warmup_starts_at=now,
        official_starts_at=now + DAY,
        followup_starts_at=now + 2 * DAY,
        ends_at=now + 3 * DAY,
    )
    tick = timedelta(microseconds=1)
    assert c.phase_at(now - tick) == Phase.UPCOMING
    assert c.phase_at(now) == Phase.WARMUP
    assert c.phase_at(now + DAY - tick) == Phase.WARMUP
    assert c.phase_at(now + DAY) == Phase.OFFICIAL
    assert c.phase_at(now + 2 * DAY - tick) == Phase.OFFICIAL
    assert c.phase_at(now + 2 * DAY) == Phase.FOLLOWUP
    assert c.phase_at(now + 3 * DAY - tick) == Phase.FOLLOWUP
    assert c.phase_at(now + 3 * DAY) == Phase.ENDED
