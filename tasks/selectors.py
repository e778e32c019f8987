"""Reads for the check-in page and API."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext

from campaigns.models import Campaign
from campaigns.selectors import campaign_local_date
from tasks.models import CheckIn, CheckInRule, TaskDefinition, TaskProgress, TaskTier
from tasks.rules import cycle_of, milestone_reached, month_start, window_key


@dataclass(frozen=True)
class NextMilestone:
    day: int
    points: int
    checkins_to_go: int  # 1: the next check-in reaches it


@dataclass(frozen=True)
class CheckInStatus:
    today: date
    checked_in_today: bool
    streak: int
    base_points: int
    next_milestone: NextMilestone | None
    month_days: list[date] = field(default_factory=list)
    checked_days: set[date] = field(default_factory=set)
    makeup_enabled: bool = False
    makeup_cost: int = 0
    makeups_left: int = 0


def checkin_status(*, campaign: Campaign, user_id: int, now: datetime | None = None) -> CheckInStatus | None:
    now = now or timezone.now()
    rule = CheckInRule.objects.filter(campaign=campaign).first()
    if rule is None:
        return None
    today = campaign_local_date(campaign=campaign, now=now)
    month_first = today.replace(day=1)
    month_days = [month_first + timedelta(days=i) for i in range(calendar.monthrange(today.year, today.month)[1])]
    recent = {
        c.local_date: c
        for c in CheckIn.objects.filter(
            campaign=campaign, user_id=user_id, local_date__gte=min(month_first, today - timedelta(days=1))
        )
    }
    current = recent.get(today) or recent.get(today - timedelta(days=1))
    streak = current.streak if current else 0
    upcoming = None
    if rule.milestones:
        for ahead in range(1, rule.milestone_list()[-1][0] + 1):
            reached = milestone_reached(rule, streak + ahead)
            if reached:
                upcoming = NextMilestone(reached.day, reached.points, ahead)
                break
    makeups_used = CheckIn.objects.filter(
        campaign=campaign, user_id=user_id, is_makeup=True, created_at__gte=month_start(campaign, now)
    ).count()
    return CheckInStatus(
        today=today,
        checked_in_today=today in recent,
        streak=streak,
        base_points=rule.base_points,
        next_milestone=upcoming,
        month_days=month_days,
        checked_days={d for d in recent if d.month == today.month and d.year == today.year},
        makeup_enabled=rule.makeup_enabled,
        makeup_cost=rule.makeup_cost,
        makeups_left=max(rule.makeup_monthly_cap - makeups_used, 0),
    )


# --- Tiered tasks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskCard:
    """One task as a member sees it right now."""

    task: TaskDefinition
    count: int  # progress in the current window (current cycle for repeatable tasks)
    target: int
    completed: bool  # the current window/cycle is done
    claimable: bool  # a completed window waits for the member to claim
    claimed: bool  # the current window's reward has been paid
    times_completed: int
    locked: bool
    locked_reason: str
    prerequisite_title: str

    @property
    def percent(self) -> int:
        return min(100, self.count * 100 // self.target) if self.target else 0

    @property
    def status(self) -> str:
        if self.locked:
            return "locked"
        if self.claimable:
            return "claimable"
        if self.completed:
            return "done"
        return "in_progress"


@dataclass(frozen=True)
class TierGroup:
    tier: str
    label: str
    tasks: list[TaskCard]


def tasks_for_member(*, campaign: Campaign, user_id: int, now: datetime | None = None) -> list[TierGroup]:
    """Active tasks grouped by tier (beginner → advanced), with the member's progress, lock and claim state."""
    now = now or timezone.now()
    tasks = list(
        TaskDefinition.objects.filter(campaign=campaign, is_active=True)
        .select_related("prerequisite")
        .order_by("sort_order", "id")
    )
    rows: dict[int, list[TaskProgress]] = {}
    for row in TaskProgress.objects.filter(task__in=tasks, user_id=user_id):
        rows.setdefault(row.task_id, []).append(row)
    done_ever = {task_id for task_id, items in rows.items() if any(r.completed_at for r in items)}
    groups: list[TierGroup] = []
    for tier, label in TaskTier.choices:
        cards = []
        for task in (t for t in tasks if t.tier == tier):
            mine = rows.get(task.pk, [])
            base = window_key(task, campaign, now)
            current = [r for r in mine if r.window_key == base or r.window_key.startswith(base + ":")]
            current.sort(key=lambda r: cycle_of(base, r.window_key))
            latest = current[-1] if current else None
            count = latest.count if latest else 0
            completed = bool(latest and latest.completed_at)
            if completed and task.repeatable and latest and latest.claimed_at:
                count, completed = 0, False  # a new cycle can start
            locked = bool(task.prerequisite_id and task.prerequisite_id not in done_ever)
            prereq_title = task.prerequisite.display_title if task.prerequisite else ""
            cards.append(
                TaskCard(
                    task=task,
                    count=min(count, task.target_count),
                    target=task.target_count,
                    completed=completed,
                    claimable=not locked and any(r.completed_at and not r.claimed_at for r in mine),
                    claimed=bool(latest and latest.claimed_at and not task.repeatable),
                    times_completed=sum(1 for r in mine if r.completed_at),
                    locked=locked,
                    locked_reason=(gettext("Complete “%(task)s” first.") % {"task": prereq_title}) if locked else "",
                    prerequisite_title=prereq_title,
                )
            )
        if cards:
            groups.append(TierGroup(tier=str(tier), label=str(label), tasks=cards))
    return groups
