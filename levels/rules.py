"""The rules of member levels that need no database: evaluation periods (local calendar periods in the ladder
campaign's timezone), which level a member's figures justify under a ladder's combine rule, and the
no-overlap rule of a ladder's thresholds. Shared by services, selectors, the admin and the tests."""

from __future__ import annotations

import itertools
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol, TypeVar

from django.utils.translation import gettext as _

DIMENSIONS = ("points_earned", "spend", "referrals", "checkin_days")
OPTIONAL = ("spend", "referrals", "checkin_days")


@dataclass(frozen=True)
class Figures:
    """What a member did (in a period, or over their lifetime)."""

    points_earned: int = 0
    spend: int = 0
    referrals: int = 0
    checkin_days: int = 0


class Thresholds(Protocol):
    rank: int
    min_points_earned: int
    min_spend: int | None
    min_referrals: int | None
    min_checkin_days: int | None


def threshold(level: Thresholds, dimension: str) -> int | None:
    """The level's threshold on one dimension (None: the level does not set it)."""
    return getattr(level, f"min_{dimension}")


def meets(level: Thresholds, figures: Figures, combine: str) -> bool:
    """Whether `figures` reach `level` under the ladder's combine rule.

    all: every threshold the level sets is met. any: the points-earned threshold is met AND at least one of the other
    thresholds the level sets (a level that sets none of the others needs points earned only)."""
    if figures.points_earned < level.min_points_earned:
        return False
    others = [(getattr(figures, d), threshold(level, d)) for d in OPTIONAL if threshold(level, d) is not None]
    if not others:
        return True
    met = [value >= int(need) for value, need in others if need is not None]
    return all(met) if combine == "all" else any(met)


L = TypeVar("L", bound=Thresholds)


def justified(levels: Sequence[L], figures: Figures, combine: str) -> L:
    """The highest-ranked level whose thresholds `figures` meet (levels sorted by rank; rank 0 needs nothing)."""
    best = levels[0]
    for level in levels:
        if meets(level, figures, combine):
            best = level
    return best


def thresholds_check(levels: Sequence[Thresholds]) -> list[str]:
    """Problems with a ladder's levels, in words an operator understands (empty: fine). Ranks are unique and start at
    0 (the entry level, which needs 0 points); points earned strictly increase with rank; an optional threshold,
    where a level sets it, is higher than the nearest lower level that sets it."""
    problems: list[str] = []
    ordered = sorted(levels, key=lambda level: level.rank)
    ranks = [level.rank for level in ordered]
    if len(set(ranks)) != len(ranks):
        problems.append(_("Two levels have the same rank."))
        return problems
    if not ordered or ordered[0].rank != 0:
        problems.append(_("The ladder needs an entry level of rank 0."))
        return problems
    if ordered[0].min_points_earned != 0:
        problems.append(_("The entry level (rank 0) must need 0 points earned."))
    for lower, higher in itertools.pairwise(ordered):
        if higher.min_points_earned <= lower.min_points_earned:
            problems.append(
                _(
                    "Level %(higher)s must need more points earned than level %(lower)s "
                    "(%(need)s is not more than %(lower_need)s)."
                )
                % {
                    "higher": higher.rank,
                    "lower": lower.rank,
                    "need": higher.min_points_earned,
                    "lower_need": lower.min_points_earned,
                }
            )
    labels = {"spend": _("points spent"), "referrals": _("qualified invites"), "checkin_days": _("check-in days")}
    for dimension in OPTIONAL:
        previous: Thresholds | None = None
        for level in ordered:
            need = threshold(level, dimension)
            if need is None:
                continue
            before = threshold(previous, dimension) if previous is not None else None
            if previous is not None and before is not None and need <= before:
                problems.append(
                    _(
                        "Level %(higher)s must need more %(what)s than level %(lower)s "
                        "(%(need)s is not more than %(lower_need)s)."
                    )
                    % {
                        "higher": level.rank,
                        "lower": previous.rank,
                        "what": labels[dimension],
                        "need": need,
                        "lower_need": before,
                    }
                )
            previous = level
    return problems


# --- Periods -------------------------------------------------------------------------------------------------


def local_date(now: datetime, tz: str) -> date:
    return now.astimezone(zoneinfo.ZoneInfo(tz)).date()


def period_key(period: str, day: date) -> str:
    """The evaluation period a local date falls in: '2026' (year), '2026-Q4' (quarter), '2026-12' (month), ''."""
    if period == "year":
        return f"{day.year:04d}"
    if period == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return ""


def period_first_day(key: str) -> date:
    """The first local date of a period key (not for '')."""
    if len(key) == 4:
        return date(int(key), 1, 1)
    year = int(key[:4])
    if key[5] == "Q":
        return date(year, (int(key[6]) - 1) * 3 + 1, 1)
    return date(year, int(key[5:7]), 1)


def period_next(key: str) -> str:
    """The period after `key` (same kind)."""
    if len(key) == 4:
        return f"{int(key) + 1:04d}"
    year = int(key[:4])
    if key[5] == "Q":
        quarter = int(key[6])
        return f"{year + 1:04d}-Q1" if quarter == 4 else f"{year:04d}-Q{quarter + 1}"
    month = int(key[5:7])
    return f"{year + 1:04d}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"


def period_dates(key: str) -> tuple[date, date]:
    """[first local date, first local date of the next period)."""
    return period_first_day(key), period_first_day(period_next(key))


def period_bounds(key: str, tz: str) -> tuple[datetime, datetime]:
    """The period as UTC-comparable instants: [local midnight of its first day, local midnight of the next)."""
    zone = zoneinfo.ZoneInfo(tz)
    first, after = period_dates(key)
    return datetime.combine(first, time.min, tzinfo=zone), datetime.combine(after, time.min, tzinfo=zone)
