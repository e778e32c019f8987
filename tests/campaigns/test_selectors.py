from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import selectors
from campaigns.errors import CampaignNotActive, CampaignNotFound
from campaigns.models import Campaign
from tests.campaigns.conftest import DAY

pytestmark = pytest.mark.django_db


def test_unpublished_and_upcoming_campaigns_are_hidden(make_campaign: Callable[..., Campaign]) -> None:
    now = timezone.now()
    live = make_campaign(slug="live")
    make_campaign(slug="draft", is_published=False)
    make_campaign(
        slug="soon",
        warmup_starts_at=now + DAY,
        official_starts_at=now + 2 * DAY,
        followup_starts_at=now + 3 * DAY,
        ends_at=now + 4 * DAY,
    )
    ended = make_campaign(
        slug="past",
        warmup_starts_at=now - 9 * DAY,
        official_starts_at=now - 8 * DAY,
        followup_starts_at=now - 7 * DAY,
        ends_at=now - 6 * DAY,
    )
    assert set(selectors.campaigns_visible(now=now)) == {live, ended}
    for slug in ("draft", "soon", "nope"):
        with pytest.raises(CampaignNotFound):
            selectors.campaign_by_slug(slug=slug, now=now)
    assert selectors.campaign_by_slug(slug="draft", now=now, preview=True).slug == "draft"
    assert selectors.campaign_by_slug(slug="soon", now=now, preview=True).slug == "soon"


def test_featured_campaign_must_be_published_and_not_ended(make_campaign: Callable[..., Campaign]) -> None:
    now = timezone.now()
    assert selectors.campaign_featured(now=now) is None
    campaign = make_campaign(is_featured=True, is_published=False)
    assert selectors.campaign_featured(now=now) is None
    campaign.is_published = True
    campaign.save()
    assert selectors.campaign_featured(now=now) == campaign
    assert selectors.campaign_featured(now=campaign.ends_at) is None


def test_next_boundary_and_require_official(make_campaign: Callable[..., Campaign]) -> None:
    c = make_campaign()
    assert selectors.campaign_next_boundary(campaign=c, now=c.warmup_starts_at - DAY) == c.warmup_starts_at
    assert selectors.campaign_next_boundary(campaign=c, now=c.warmup_starts_at) == c.official_starts_at
    assert selectors.campaign_next_boundary(campaign=c, now=c.official_starts_at) == c.followup_starts_at
    assert selectors.campaign_next_boundary(campaign=c, now=c.followup_starts_at) == c.ends_at
    assert selectors.campaign_next_boundary(campaign=c, now=c.ends_at) is None
    selectors.campaign_require_official(campaign=c, now=c.official_starts_at)
    with pytest.raises(CampaignNotActive) as exc:
        selectors.campaign_require_official(campaign=c, now=c.followup_starts_at)
    assert exc.value.details == {"phase": "followup"}


def test_the_phase_rule_at_every_boundary(make_campaign: Callable[..., Campaign]) -> None:
    """One home for "can members act now": open exactly in [official, follow-up); "opens later" before it;
    claims also in the follow-up. The require_* functions raise exactly when the booleans say no."""
    c = make_campaign()
    second = timedelta(seconds=1)
    expected = {  # at: (open, opens later, claims open)
        c.warmup_starts_at - DAY: (False, True, False),
        c.official_starts_at - second: (False, True, False),
        c.official_starts_at: (True, False, True),
        c.followup_starts_at - second: (True, False, True),
        c.followup_starts_at: (False, False, True),
        c.ends_at - second: (False, False, True),
        c.ends_at: (False, False, False),
    }
    for at, (is_open, later, claims) in expected.items():
        got = (
            selectors.campaign_open_for_members(campaign=c, now=at),
            selectors.campaign_opens_later(campaign=c, now=at),
            selectors.campaign_claims_open(campaign=c, now=at),
        )
        assert got == (is_open, later, claims), at
        for require, allowed in (
            (selectors.campaign_require_official, is_open),
            (selectors.campaign_require_claims_open, claims),
        ):
            if allowed:
                require(campaign=c, now=at)
            else:
                with pytest.raises(CampaignNotActive) as refused:
                    require(campaign=c, now=at)
                assert refused.value.details == {"phase": str(c.phase_at(at))}
