"""Check-in services: the daily check-in (one SQL call, tasks/sql/tasks_checkin.sql), paid make-ups (补签) and
check-in rules. Every write of check-ins happens here; points move only through the campaigns' value gate
(campaign_grant / campaign_charge: one earning path). Streak milestones are paid by a Celery job
(`tasks.jobs` → `tasks.streaks`) recorded in the outbox with the check-in itself and published after commit
(docs/adr/0008-outbox.md)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from campaigns.earning import member_earned
from campaigns.errors import CampaignNotActive, CampaignNotFound
from campaigns.models import Campaign
from campaigns.selectors import campaign_local_date, campaign_require_official
from campaigns.services import campaign_points_charge, campaign_points_grant
from outbox.services import outbox_add, outbox_publish_on_commit
from tasks import kinds
from tasks.engine import tasks_sql
from tasks.errors import AlreadyCheckedIn, CheckInNotConfigured, MakeupLimitReached, MakeupNotAllowed
from tasks.models import CheckIn, CheckInRule, TaskProgress
from tasks.rules import checkin_rule_validate, month_start


def _rule(campaign: Campaign) -> CheckInRule:
    rule = CheckInRule.objects.filter(campaign=campaign).first()
    if rule is None:
        raise CheckInNotConfigured()
    return rule


# The streak bonus job (tasks.jobs.streak_rewards_grant), one per check-in, recorded in the outbox (ADR 0008).
STREAK_JOB = "tasks.streak_rewards_grant"


def streak_outbox_key(campaign_id: int, user_id: int, day: date) -> str:
    """The outbox key of a check-in's streak job; tasks_checkin() builds the same in SQL."""
    return f"tasks.streak:{campaign_id}:{user_id}:{day.isoformat()}"


def _checkin_pay(*, checkin: CheckIn, campaign: Campaign, now: datetime) -> None:
    """Post a check-in's base points (one ledger key per member and day, so it can never pay twice)."""
    posted = campaign_points_grant(
        campaign=campaign,
        user_id=checkin.user_id,
        amount=checkin.points,
        kind=kinds.CHECKIN,
        key=f"checkin:{campaign.pk}:{checkin.user_id}:{checkin.local_date.isoformat()}",
        now=now,
        source=checkin,
    )
    checkin.transfer_id = posted.transfer_id
    checkin.save(update_fields=["transfer_id"])


_CHECKIN_SQL = "SELECT * FROM tasks_checkin(%s::bigint, %s::bigint, %s::timestamptz, %s::integer, %s::integer)"


def checkin_create(*, campaign: Campaign, user_id: int, now: datetime | None = None) -> CheckIn:
    """Check in for today (campaign-local): one call of tasks_checkin() (tasks/sql/tasks_checkin.sql) — one
    statement, one transaction, one commit. It re-checks the campaign (published, official phase) and reads the
    check-in rule from the rows, not from any cache; one check-in per member and day is the UNIQUE constraint, so a
    second check-in the same day (a retry too) is AlreadyCheckedIn with the first one. The base points pass the
    value gate (campaign_grant) and `checkin` tasks count it in the same statement, which also records the streak
    bonus job in the outbox when the new streak reaches a milestone (no extra round trip); it is published after
    commit."""
    now = now or timezone.now()
    types = ContentType.objects.get_for_models(CheckIn, TaskProgress)
    rows = tasks_sql(_CHECKIN_SQL, [campaign.pk, user_id, now, types[CheckIn].pk, types[TaskProgress].pk])
    status, pk, day, streak, streak_start, points, is_makeup, transfer_id, created_at, phase, bonus = rows[0]
    if status == "not_found":
        raise CampaignNotFound()
    if status == "not_active":
        raise CampaignNotActive(details={"phase": phase})
    if status == "not_configured":
        raise CheckInNotConfigured()
    checkin = CheckIn(
        pk=pk,
        campaign=campaign,
        user_id=user_id,
        local_date=day,
        streak=streak,
        streak_start=streak_start,
        is_makeup=is_makeup,
        points=points,
        transfer_id=transfer_id,
        created_at=created_at,
    )
    checkin._state.adding = False
    if status == "exists":
        raise AlreadyCheckedIn(details={"checkin": checkin_as_dict(checkin)})
    member_earned(user_id=user_id, kind=kinds.CHECKIN)  # after commit: the earning hooks (levels: promotion)
    if bonus:  # the new streak reaches a milestone: tasks_checkin() recorded the job; publish it after commit
        outbox_publish_on_commit(
            job=STREAK_JOB, args=[campaign.pk, user_id], key=streak_outbox_key(campaign.pk, user_id, day)
        )
    return checkin


def checkin_makeup(*, campaign: Campaign, user_id: int, day: date, now: datetime | None = None) -> CheckIn:
    """补签: check in for a missed past day of the official phase, paying the rule's cost; at most
    `makeup_monthly_cap` per calendar month (campaign-local). Later streaks are recomputed."""
    now = now or timezone.now()
    campaign_require_official(campaign=campaign, now=now)
    rule = _rule(campaign)
    today = campaign_local_date(campaign=campaign, now=now)
    first_day = campaign_local_date(campaign=campaign, now=campaign.official_starts_at)
    if not rule.makeup_enabled or not (first_day <= day < today):
        raise MakeupNotAllowed(details={"day": day.isoformat()})
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user_id).first()  # one member's make-ups happen one at a time
        if CheckIn.objects.filter(campaign=campaign, user_id=user_id, local_date=day).exists():
            raise MakeupNotAllowed(details={"day": day.isoformat(), "reason": "already checked in"})
        used = CheckIn.objects.filter(
            campaign=campaign,
            user_id=user_id,
            is_makeup=True,
            created_at__gte=month_start(campaign, now),
        ).count()
        if used >= rule.makeup_monthly_cap:
            raise MakeupLimitReached(details={"cap": rule.makeup_monthly_cap})
        key = f"makeup:{campaign.pk}:{user_id}:{day.isoformat()}"
        if rule.makeup_cost:
            campaign_points_charge(
                campaign=campaign,
                user_id=user_id,
                amount=rule.makeup_cost,
                kind=kinds.MAKEUP_CHECKIN,
                key=f"{key}:cost",
                now=now,
            )
        checkin = CheckIn.objects.create(
            campaign=campaign,
            user_id=user_id,
            local_date=day,
            streak=1,
            streak_start=day,
            is_makeup=True,
            points=rule.base_points,
            created_at=now,  # the monthly cap above counts make-ups by the month of `now`
        )
        _checkin_pay(checkin=checkin, campaign=campaign, now=now)
        _streaks_recompute(campaign=campaign, user_id=user_id, around=day)
        outbox_add(
            job=STREAK_JOB, args=[campaign.pk, user_id], key=streak_outbox_key(campaign.pk, user_id, day), now=now
        )
    checkin.refresh_from_db()
    return checkin


def _streaks_recompute(*, campaign: Campaign, user_id: int, around: date) -> None:
    """Renumber the contiguous run of check-ins that contains `around` (after a make-up joined two runs)."""
    rows = list(CheckIn.objects.filter(campaign=campaign, user_id=user_id).order_by("local_date"))
    by_date = {row.local_date: row for row in rows}
    start = around
    while start - timedelta(days=1) in by_date:
        start -= timedelta(days=1)
    day, streak = start, 1
    while day in by_date:
        row = by_date[day]
        if (row.streak, row.streak_start) != (streak, start):
            CheckIn.objects.filter(pk=row.pk).update(streak=streak, streak_start=start)
        day, streak = day + timedelta(days=1), streak + 1


def checkin_as_dict(checkin: CheckIn) -> dict[str, object]:
    return {
        "id": checkin.pk,
        "date": checkin.local_date.isoformat(),
        "streak": checkin.streak,
        "points": checkin.points,
        "is_makeup": checkin.is_makeup,
    }


def checkin_rule_save(*, rule: CheckInRule) -> CheckInRule:
    checkin_rule_validate(rule)
    rule.save()
    return rule
