"""Reads of member levels shared by the page, the API, the admin, the mall and the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection

from levels import rules
from levels.figures import member_figures
from levels.models import Downgrade, Ladder, Level, MemberLevel
from levels.rules import Figures


@dataclass(frozen=True)
class ActiveLadder:
    ladder: Ladder
    levels: list[Level]  # by rank; levels[0] is the entry level

    def by_id(self, level_id: int | None) -> Level | None:
        return next((level for level in self.levels if level.pk == level_id), None)


def ladder_active() -> ActiveLadder | None:
    """The active ladder (with its campaign) and its levels by rank; None when no ladder is active or it has none."""
    ladder = Ladder.objects.select_related("campaign").filter(active=True).first()
    if ladder is None:
        return None
    levels = list(Level.objects.filter(ladder=ladder).order_by("rank"))
    if not levels:
        return None
    return ActiveLadder(ladder=ladder, levels=levels)


def window_key(ladder: Ladder, now: datetime) -> str:
    """The key of the window figures count in and rewards are paid once per: the current evaluation period when the
    ladder re-evaluates at period end, '' (the member's lifetime) when it never downgrades."""
    if ladder.downgrade != Downgrade.REEVALUATE:
        return ""
    return rules.period_key(ladder.period, rules.local_date(now, ladder.campaign.timezone))


def figures_in(*, user_id: int, ladder: Ladder, key: str) -> Figures:
    """The member's figures in the window `key` ('' = lifetime) of `ladder`'s campaign timezone."""
    if not key:
        return member_figures(user_id=user_id)
    since, until = rules.period_bounds(key, ladder.campaign.timezone)
    first, after = rules.period_dates(key)
    return member_figures(user_id=user_id, since=since, until=until, day_from=first, day_to=after)


@dataclass(frozen=True)
class Progress:
    dimension: str
    value: int
    need: int | None  # the next level's threshold (None: the next level does not set it)
    percent: int  # 0-100


@dataclass(frozen=True)
class LevelStatus:
    ladder: Ladder
    levels: list[Level]
    level: Level
    next_level: Level | None
    floor: Level | None
    figures: Figures
    progress: list[Progress]
    period_key: str
    period_ends: date | None  # the first local day of the next period (re-evaluating ladders)
    reached_at: datetime | None


def level_status(*, user_id: int, now: datetime) -> LevelStatus | None:
    """The member's level on the active ladder, the next level and their progress towards it per dimension
    (four queries: ladder, levels, the member's row, the figures). A member never evaluated is at the entry level."""
    active = ladder_active()
    if active is None:
        return None
    ladder, levels = active.ladder, active.levels
    row = MemberLevel.objects.filter(user_id=user_id, ladder=ladder).first()
    level = (active.by_id(row.level_id) if row else None) or levels[0]
    floor = active.by_id(row.floor_id) if row else None
    key = window_key(ladder, now)
    figures = figures_in(user_id=user_id, ladder=ladder, key=key)
    next_level = next((candidate for candidate in levels if candidate.rank > level.rank), None)
    progress = []
    for dimension in rules.DIMENSIONS:
        value = getattr(figures, dimension)
        need = rules.threshold(next_level, dimension) if next_level is not None else None
        percent = 100 if not need else min(100, value * 100 // need)
        progress.append(Progress(dimension=dimension, value=value, need=need, percent=percent))
    return LevelStatus(
        ladder=ladder,
        levels=levels,
        level=level,
        next_level=next_level,
        floor=floor,
        figures=figures,
        progress=progress,
        period_key=key,
        period_ends=rules.period_dates(key)[1] if key else None,
        reached_at=row.reached_at if row else None,
    )


# The member's mall discount as a scalar subquery (one %s: the member id), for readers that fold it into their own
# statement (mall.selectors.spendable_and_discount); mall_order_place() reads the same in SQL.
DISCOUNT_SQL = """coalesce((SELECT l.discount_percent FROM levels_memberlevel m
  JOIN levels_ladder d ON d.id = m.ladder_id AND d.active
  JOIN levels_level l ON l.id = m.level_id
 WHERE m.user_id = %s), 0)"""


def member_discount(*, user_id: int | None) -> Decimal:
    """The mall discount (percent) of the member's current level on the active ladder; 0 without one. The same read
    mall_order_place() makes in SQL (mall/sql/mall_order_place.sql)."""
    if not user_id:
        return Decimal("0")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {DISCOUNT_SQL}", [user_id])
        row = cursor.fetchone()
    return Decimal(row[0]) if row and row[0] is not None else Decimal("0")
