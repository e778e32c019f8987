"""Builders for the partner portal's tests (pages, API, browser): partners with logins, sales, statements."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from partners.builders import partner_build, tiers_build
from partners.models import Partner, Statement
from partners.periods import month_key, month_start
from partners.sales import SaleLine, sale_book
from partners.services import partner_login_add
from partners.statements import statement_issue

PASSWORD = "Str0ng-pass-2026"
_numbers = itertools.count(1)
_orders = itertools.count(1)


@dataclass
class PartnerLogin:
    partner: Partner
    user: User


def partner_with_login(code: str, *, referred_by: Partner | None = None, **fields: Any) -> PartnerLogin:
    tiers_build()
    partner = partner_build(code=code, referred_by=referred_by, **fields)
    n = next(_numbers)
    user = user_create(phone=f"+86137{n:08d}", email=f"partner{n}@example.com", password=PASSWORD)
    partner_login_add(partner=partner, user_id=user.pk)
    return PartnerLogin(partner, user)


def sell(partner: Partner, amount: str | Decimal, *, sold_at: datetime, now: datetime | None = None) -> None:
    line = SaleLine(
        external_id=f"T{next(_orders)}", sold_at=sold_at, quantity=1, amount=Decimal(amount), product="扫地机器人"
    )
    sale_book(partner=partner, line=line, source="admin", now=now or sold_at)


def this_month_start() -> datetime:
    """The start of the programme's current month (a sale then counts this month, and is never in the future)."""
    return month_start(month_key(timezone.now()))


def statement_for_month(partner: Partner, period: str, amounts: list[str]) -> Statement:
    """Sales in `period` (a month long past), then its statement, issued a few days after the month."""
    start = month_start(period)
    for day, amount in enumerate(amounts, start=1):
        sell(partner, amount, sold_at=start + timedelta(days=day))
    issued_at = start + timedelta(days=35)
    statement, _created = statement_issue(partner=partner, period=period, now=issued_at)
    return statement
