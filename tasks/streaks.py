"""Streak bonus services, run by the Celery jobs in `tasks.jobs` (queued after a check-in commits, and swept
every few minutes). They enqueue nothing themselves, so `checkins → jobs → streaks` has no cycle."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import campaign_points_grant
from tasks import kinds
from tasks.models import CheckIn, CheckInRule, StreakReward
from tasks.rules import milestone_reached


def streak_rewards_grant(*, campaign_id: int, user_id: int, now: datetime | None = None) -> int:
    """Pay every streak milestone this member has reached and not been paid. Idempotent per streak, cycle and
    milestone (ledger key + unique row), so re-delivered or concurrent jobs never pay twice. Returns how many
    rewards this call created."""
    now = now or timezone.now()
    campaign = Campaign.objects.get(pk=campaign_id)
    rule = CheckInRule.objects.filter(campaign=campaign).first()
    if rule is None or not rule.milestones:
        return 0
    paid = 0
    checkins = CheckIn.objects.filter(campaign=campaign, user_id=user_id).order_by("local_date")
    for checkin in checkins:
        reached = milestone_reached(rule, checkin.streak)
        if reached is None:
            continue
        # Within one unbroken run of days a milestone pays once, even if a make-up merged two runs later.
        already = StreakReward.objects.filter(
            campaign=campaign,
            user_id=user_id,
            cycle=reached.cycle,
            day=reached.day,
            checkin__local_date__gte=checkin.streak_start,
            checkin__local_date__lte=checkin.local_date,
        ).exists()
        if already:
            continue
        key = f"streak:{campaign.pk}:{user_id}:{checkin.streak_start}:{reached.cycle}:{reached.day}"
        with transaction.atomic():
            posted = campaign_points_grant(
                campaign=campaign,
                user_id=user_id,
                amount=reached.points,
                kind=kinds.STREAK_BONUS,
                key=key,
                now=now,
                source=checkin,
            )
            _reward, created = StreakReward.objects.get_or_create(
                campaign=campaign,
                user_id=user_id,
                streak_start=checkin.streak_start,
                cycle=reached.cycle,
                day=reached.day,
                defaults={"checkin": checkin, "points": reached.points, "transfer_id": posted.transfer_id},
            )
            paid += int(created and posted.created)
    return paid


def streak_rewards_sweep(*, now: datetime | None = None, lookback: timedelta = timedelta(days=2)) -> int:
    """Safety net for lost after-commit jobs: grant rewards for everyone who checked in recently."""
    now = now or timezone.now()
    pairs = CheckIn.objects.filter(created_at__gte=now - lookback).values_list("campaign_id", "user_id").distinct()
    return sum(streak_rewards_grant(campaign_id=c, user_id=u, now=now) for c, u in pairs)
