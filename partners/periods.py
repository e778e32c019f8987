"""Months of the partner programme, in its time zone: keys "YYYY-MM", their UTC bounds, and arithmetic."""

from __future__ import annotations

import calendar
import zoneinfo
from datetime import date, datetime, time

from partners.models import Programme


def programme() -> Programme:
    """The programme's settings (the one row, created with defaults on first use)."""
    row, _created = Programme.objects.get_or_create(pk=1)
    return row


def tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(programme().time_zone)


def month_key(moment: datetime, zone: zoneinfo.ZoneInfo | None = None) -> str:
    local = moment.astimezone(zone or tz())
    return f"{local.year:04d}-{local.month:02d}"


def month_parse(key: str) -> tuple[int, int]:
    """(year, month) of a "YYYY-MM" key; ValueError for anything else."""
    if len(key) != 7 or key[4] != "-" or not (key[:4].isdigit() and key[5:].isdigit()):
        raise ValueError(key)
    year, month = int(key[:4]), int(key[5:])
    if not (2000 <= year <= 2999 and 1 <= month <= 12):
        raise ValueError(key)
    return year, month


def month_shift(key: str, months: int) -> str:
    year, month = month_parse(key)
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_start(key: str, zone: zoneinfo.ZoneInfo | None = None) -> datetime:
    """The instant the month begins (aware, in the programme's zone)."""
    year, month = month_parse(key)
    return datetime.combine(date(year, month, 1), time.min, tzinfo=zone or tz())


def month_end(key: str, zone: zoneinfo.ZoneInfo | None = None) -> datetime:
    """The instant the month ends (= the next month's start)."""
    return month_start(month_shift(key, 1), zone)


def months_between(first: str, last: str) -> list[str]:
    """Every month key from `first` to `last`, both included ([] when last < first)."""
    out = []
    key = first
    while key <= last:
        out.append(key)
        key = month_shift(key, 1)
    return out


def full_months(since: date, until: date) -> int:
    """Whole months from `since` to `until` (a partner who joined 31 Jan has one month on 29 Feb/1 Mar... counted
    by calendar: the day of month must be reached, or the month's last day when it has fewer days)."""
    months = (until.year - since.year) * 12 + (until.month - since.month)
    if months <= 0:
        return 0
    # Not yet the joining day of month in `until`'s month (capped to that month's length): one month fewer.
    last_day = calendar.monthrange(until.year, until.month)[1]
    if until.day < min(since.day, last_day):
        months -= 1
    return max(months, 0)
