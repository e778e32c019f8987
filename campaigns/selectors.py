"""Reads of campaigns shared by pages, API and other apps."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone

from campaigns.errors import CampaignNotActive, CampaignNotFound
from campaigns.models import Campaign, MultiplierCard, Phase
from config.config_cache import config_cached


def campaigns_visible(*, now: datetime | None = None) -> QuerySet[Campaign]:
    """Published campaigns members may see (from warm-up on, including ended ones for their results)."""
    now = now or timezone.now()
    return Campaign.objects.filter(is_published=True, warmup_starts_at__lte=now)


def campaign_visible(*, campaign: Campaign, now: datetime) -> bool:
    """campaigns_visible's rule for one campaign in hand."""
    return campaign.is_published and campaign.warmup_starts_at <= now


def _campaign_of_slug(slug: str) -> Campaign:
    campaign = Campaign.objects.filter(slug=slug).first()
    if campaign is None:
        raise CampaignNotFound()
    return campaign


def campaign_by_slug_cached(*, slug: str, now: datetime | None = None) -> Campaign:
    """campaign_by_slug for members' hot paths, through the configuration cache (config/config_cache.py): no
    query while the configuration is unchanged. The object is shared: read it, never change it."""
    now = now or timezone.now()
    campaign = config_cached(f"campaign:{slug}", lambda: _campaign_of_slug(slug))
    if not campaign_visible(campaign=campaign, now=now):
        raise CampaignNotFound()
    return campaign


def campaign_featured(*, now: datetime | None = None) -> Campaign | None:
    now = now or timezone.now()
    return Campaign.objects.filter(is_published=True, is_featured=True, ends_at__gt=now).first()


def campaign_by_slug(*, slug: str, now: datetime | None = None, preview: bool = False) -> Campaign:
    """A visible campaign; `preview` (operators) also returns unpublished or upcoming ones."""
    qs = Campaign.objects.all() if preview else campaigns_visible(now=now)
    campaign = qs.filter(slug=slug).first()
    if campaign is None:
        raise CampaignNotFound()
    return campaign


def campaign_local_date(*, campaign: Campaign, now: datetime) -> date:
    """'A day' of the campaign: the date of `now` in the campaign's timezone."""
    return now.astimezone(zoneinfo.ZoneInfo(campaign.timezone)).date()


# --- The phase rule: the one home of "can members act now". Services enforce it with the campaign_require_*
# functions (CampaignNotActive, 422 `campaign_not_active`); pages and the API show the booleans.


def campaign_open_for_members(*, campaign: Campaign, now: datetime) -> bool:
    """Members' activities (check-ins, make-ups, task progress, partner events, spins) run in the official
    phase only: [official_starts_at, followup_starts_at)."""
    return campaign.phase_at(now) == Phase.OFFICIAL


def campaign_opens_later(*, campaign: Campaign, now: datetime) -> bool:
    """Not open yet, but will be (upcoming or warm-up): pages say when it opens instead of "closed"."""
    return campaign.phase_at(now) in (Phase.UPCOMING, Phase.WARMUP)


def campaign_claims_open(*, campaign: Campaign, now: datetime) -> bool:
    """Rewards earned in the official phase can still be claimed in the follow-up."""
    return campaign.phase_at(now) in (Phase.OFFICIAL, Phase.FOLLOWUP)


def campaign_require_official(*, campaign: Campaign, now: datetime) -> None:
    """Raise CampaignNotActive unless members may act now (campaign_open_for_members)."""
    if not campaign_open_for_members(campaign=campaign, now=now):
        raise CampaignNotActive(details={"phase": str(campaign.phase_at(now))})


def campaign_require_claims_open(*, campaign: Campaign, now: datetime) -> None:
    """Raise CampaignNotActive unless earned rewards may be claimed now (campaign_claims_open)."""
    if not campaign_claims_open(campaign=campaign, now=now):
        raise CampaignNotActive(details={"phase": str(campaign.phase_at(now))})


def campaign_next_boundary(*, campaign: Campaign, now: datetime) -> datetime | None:
    """The next phase boundary a countdown counts down to (None once the campaign has ended).

    Upcoming → warm-up starts; warm-up → official phase starts; official → official phase ends (follow-up
    starts: earning stops); follow-up → the campaign ends."""
    return {
        Phase.UPCOMING: campaign.warmup_starts_at,
        Phase.WARMUP: campaign.official_starts_at,
        Phase.OFFICIAL: campaign.followup_starts_at,
        Phase.FOLLOWUP: campaign.ends_at,
    }.get(campaign.phase_at(now))


@dataclass(frozen=True)
class Countdown:
    """What the phase badge and the countdown show; the page starts from these server-computed numbers (so it
    reads right without JavaScript) and static/js/countdown.js keeps it ticking."""

    phase: Phase
    next_boundary: datetime | None
    days: int
    hours: int
    minutes: int
    seconds: int


def campaign_countdown(*, campaign: Campaign, now: datetime) -> Countdown:
    boundary = campaign_next_boundary(campaign=campaign, now=now)
    remaining = max(int((boundary - now).total_seconds()), 0) if boundary else 0
    days, rest = divmod(remaining, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return Countdown(campaign.phase_at(now), boundary, days, hours, minutes, seconds)


def campaign_hidden_from_members(*, campaign: Campaign, now: datetime) -> bool:
    """True for what only a staff preview shows: unpublished, or before its warm-up."""
    return not campaign.is_published or campaign.warmup_starts_at > now


def campaigns_with_phase(*, now: datetime, limit: int | None = None) -> list[tuple[Campaign, Phase]]:
    campaigns = campaigns_visible(now=now)
    return [(c, c.phase_at(now)) for c in (campaigns[:limit] if limit else campaigns)]


def multiplier_cards_active(*, user_id: int, now: datetime) -> list[MultiplierCard]:
    """Every card still running for the member (any campaign), soonest to end first: shown in the wallet."""
    return list(
        MultiplierCard.objects.filter(user_id=user_id, starts_at__lte=now, ends_at__gt=now)
        .select_related("campaign")
        .order_by("ends_at")
    )
