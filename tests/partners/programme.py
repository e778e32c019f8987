"""Shared set-up for the partner programme's tests: the example tiers, a partner, sale lines and clock instants
(all fixed: no test reads today's date)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from partners.builders import partner_build, tiers_build
from partners.models import Partner, Sale
from partners.sales import SaleLine, sale_book

SH = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A Shanghai wall-clock instant."""
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def partner(code: str = "DLR1", *, joined: date = date(2026, 1, 1), **fields: Any) -> Partner:
    tiers_build()
    return partner_build(code=code, joined_at=joined, **fields)


def book(
    who: Partner,
    external_id: str,
    amount: str,
    *,
    sold_at: datetime,
    now: datetime | None = None,
    quantity: int | None = None,
    original: str = "",
) -> Sale:
    value = Decimal(amount)
    qty = quantity if quantity is not None else (1 if value > 0 else -1)
    line = SaleLine(external_id, sold_at, qty, value, "CNY", "", original)
    sale, _created = sale_book(partner=who, line=line, source=Sale.Source.ADMIN, now=now or sold_at)
    return sale
