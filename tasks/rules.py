"""Pure rules of check-ins and tasks: no database, no clock. Services, selectors and admin forms share them.

- `milestone_reached`: which streak milestone a check-in of a given streak length reaches (with cycling).
- `month_start`: the campaign-local month a make-up cap counts in.
- `window_key` / `cycle_key` / `cycle_of`: how task progress rows are keyed per window and completion cycle.
- `event_type_validate`, `checkin_rule_validate`: the shapes operators and partners may use.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from campaigns.models import Campaign
from campaigns.selectors import campaign_local_date
from tasks.models import EVENT_BASE_TYPES, FEATURE_EVENT_PREFIX, CheckInRule, TaskDefinition, TaskWindow

# --- Check-ins ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Milestone:
    cycle: int
    day: int
    points: int


def milestone_reached(rule: CheckInRule, streak: int) -> Milestone | None:
    """The milestone a check-in with this streak length reaches, if any (with cycling, the count restarts
    after the last milestone: day 8 of a 7-day cycle is day 1 of cycle 1)."""
    milestones = rule.milestone_list()
    if not milestones:
        return None
    last = milestones[-1][0]
    if rule.cycle:
        cycle, position = divmod(streak - 1, last)
        position += 1
    else:
        cycle, position = 0, streak
    for day, points in milestones:
        if day == position:
            return Milestone(cycle, day, points)
    return None


def month_start(campaign: Campaign, now: datetime) -> datetime:
    """Midnight of the first day of `now`'s month in the campaign's timezone."""
    zone = zoneinfo.ZoneInfo(campaign.timezone)
    local = now.astimezone(zone)
    return datetime(local.year, local.month, 1, tzinfo=zone)


def checkin_rule_validate(rule: CheckInRule) -> None:
    """Milestones must be a list of {"day": n > 0, "points": p > 0} with distinct days; sorts them by day."""
    problem = gettext('Milestones must look like [{"day": 3, "points": 10}] with distinct positive days and points.')
    items = rule.milestones or []
    if not isinstance(items, list):
        raise ValidationError({"milestones": [problem]})
    days = []
    for item in items:
        if not isinstance(item, dict) or set(item) != {"day", "points"}:
            raise ValidationError({"milestones": [problem]})
        day, points = item["day"], item["points"]
        if type(day) is not int or type(points) is not int or day <= 0 or points <= 0:
            raise ValidationError({"milestones": [problem]})
        days.append(day)
    if len(set(days)) != len(days):
        raise ValidationError({"milestones": [problem]})
    if rule.base_points <= 0:
        raise ValidationError({"base_points": [gettext("Give at least one point per check-in.")]})
    rule.milestones = sorted(items, key=lambda m: m["day"])


# --- Tasks -------------------------------------------------------------------------------------------------

FEATURE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def event_type_validate(value: str) -> str:
    """A known base type, or `feature_used:<name>` (lowercase letters, digits, `_ . -`)."""
    value = (value or "").strip()
    if value in EVENT_BASE_TYPES:
        return value
    if value.startswith(FEATURE_EVENT_PREFIX) and FEATURE_NAME.match(value[len(FEATURE_EVENT_PREFIX) :]):
        return value
    raise ValidationError(
        gettext("Unknown event type. Use one of %(types)s, or feature_used:<name>.")
        % {"types": ", ".join(EVENT_BASE_TYPES)}
    )


def window_key(task: TaskDefinition, campaign: Campaign, at: datetime) -> str:
    """'all', the campaign-local date, or the campaign-local ISO week of `at`."""
    if task.window == TaskWindow.DAILY:
        return campaign_local_date(campaign=campaign, now=at).isoformat()
    if task.window == TaskWindow.WEEKLY:
        year, week, _weekday = campaign_local_date(campaign=campaign, now=at).isocalendar()
        return f"{year}-W{week:02d}"
    return "all"


def cycle_key(base: str, cycle: int) -> str:
    """The progress row key of a completion cycle: the window key, then `:1`, `:2`, … for repeats."""
    return base if cycle == 0 else f"{base}:{cycle}"


def cycle_of(base: str, key: str) -> int:
    """The completion cycle a progress row key of window `base` stands for (inverse of `cycle_key`)."""
    return 0 if key == base else int(key.rsplit(":", 1)[1])
