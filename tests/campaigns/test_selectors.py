from __future__ import annotations

from collections.abc import Callable

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
