"""Reads for the check-in and task pages and API. The hot reads take the configuration (check-in rule, task
definitions) from the configuration cache and the member's rows with one raw query each."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext

from campaigns.models import Campaign
from campaigns.selectors import campaign_local_date
from config.config_cache import config_cached
from tasks.models import CheckInRule, TaskDefinition, TaskTier
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


def checkin_rule_cached(*, campaign_id: int) -> CheckInRule | None:
    """The campaign's check-in rule (None: no daily check-in) through the configuration cache
    (config/config_cache.py): no query while the configuration is unchanged. Shared: read it, never change it."""
    return config_cached(
        f"tasks:checkin-rule:{campaign_id}", lambda: CheckInRule.objects.filter(campaign_id=campaign_id).first()
    )


# The member's check-ins the status needs, in one query: those since `since` (this month and yesterday, for the
# calendar and the streak) and this month's make-ups (for the monthly cap, counted by the month of created_at).
_STATUS_SQL = """
SELECT local_date, streak, is_makeup, created_at FROM tasks_checkin
 WHERE campaign_id = %s AND user_id = %s AND (local_date >= %s OR (is_makeup AND created_at >= %s))
"""


def checkin_status(*, campaign: Campaign, user_id: int, now: datetime | None = None) -> CheckInStatus | None:
    """The check-in page's state: the rule from the configuration cache and the member's check-ins in one query."""
    now = now or timezone.now()
    rule = checkin_rule_cached(campaign_id=campaign.pk)
    if rule is None:
        return None
    today = campaign_local_date(campaign=campaign, now=now)
    month_first = today.replace(day=1)
    month_days = [month_first + timedelta(days=i) for i in range(calendar.monthrange(today.year, today.month)[1])]
    since = min(month_first, today - timedelta(days=1))
    makeups_from = month_start(campaign, now)
    with connection.cursor() as cursor:
        cursor.execute(_STATUS_SQL, [campaign.pk, user_id, since, makeups_from])
        rows = cursor.fetchall()
    recent = {day: streak for day, streak, _makeup, _created in rows if day >= since}
    makeups_used = sum(1 for _day, _streak, is_makeup, created in rows if is_makeup and created >= makeups_from)
    streak = recent.get(today) or recent.get(today - timedelta(days=1)) or 0
    upcoming = None
    if rule.milestones:
        for ahead in range(1, rule.milestone_list()[-1][0] + 1):
            reached = milestone_reached(rule, streak + ahead)
            if reached:
                upcoming = NextMilestone(reached.day, reached.points, ahead)
                break
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


def tasks_active_cached(*, campaign_id: int) -> tuple[TaskDefinition, ...]:
    """The campaign's active tasks in display order, each with its prerequisite loaded, through the configuration
    cache (config/config_cache.py): no query while the configuration is unchanged. Shared: never change them."""

    def load() -> tuple[TaskDefinition, ...]:
        return tuple(
            TaskDefinition.objects.filter(campaign_id=campaign_id, is_active=True)
            .select_related("prerequisite")
            .order_by("sort_order", "id")
        )

    return config_cached(f"tasks:active:{campaign_id}", load)


@dataclass(frozen=True)
class _Progress:
    window_key: str
    count: int
    completed: bool
    claimed: bool


_PROGRESS_SQL = """
SELECT task_id, window_key, count, completed_at IS NOT NULL, claimed_at IS NOT NULL FROM tasks_taskprogress
 WHERE user_id = %s AND task_id = ANY(%s)
"""


def tasks_for_member(*, campaign: Campaign, user_id: int, now: datetime | None = None) -> list[TierGroup]:
    """Active tasks grouped by tier (beginner → advanced), with the member's progress, lock and claim state: the
    tasks from the configuration cache, the member's progress rows in one query."""
    now = now or timezone.now()
    tasks = tasks_active_cached(campaign_id=campaign.pk)
    rows: dict[int, list[_Progress]] = {}
    if tasks:
        with connection.cursor() as cursor:
            cursor.execute(_PROGRESS_SQL, [user_id, [task.pk for task in tasks]])
            for task_id, key, count, completed, claimed in cursor.fetchall():
                rows.setdefault(task_id, []).append(_Progress(key, count, completed, claimed))
    done_ever = {task_id for task_id, items in rows.items() if any(r.completed for r in items)}
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
            completed = bool(latest and latest.completed)
            if completed and task.repeatable and latest and latest.claimed:
                count, completed = 0, False  # a new cycle can start
            locked = bool(task.prerequisite_id and task.prerequisite_id not in done_ever)
            prereq_title = task.prerequisite.display_title if task.prerequisite else ""
            cards.append(
                TaskCard(
                    task=task,
                    count=min(count, task.target_count),
                    target=task.target_count,
                    completed=completed,
                    claimable=not locked and any(r.completed and not r.claimed for r in mine),
                    claimed=bool(latest and latest.claimed and not task.repeatable),
                    times_completed=sum(1 for r in mine if r.completed),
                    locked=locked,
                    locked_reason=(gettext("Complete “%(task)s” first.") % {"task": prereq_title}) if locked else "",
                    prerequisite_title=prereq_title,
                )
            )
        if cards:
            groups.append(TierGroup(tier=str(tier), label=str(label), tasks=cards))
    return groups
