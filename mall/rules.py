"""The mall's rules that need no database: when a product is on sale, what a member pays and how a code is shown.
The SQL that places orders (mall/sql/mall_order_place.sql) applies the same sale rule itself;
tests/mall/test_rules.py proves the two agree."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol

SaleState = Literal["on_sale", "upcoming", "ended"]

MASK = "•"


class _Campaign(Protocol):
    @property
    def is_published(self) -> bool: ...
    @property
    def official_starts_at(self) -> datetime: ...
    @property
    def followup_starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...


class _Product(Protocol):
    @property
    def is_active(self) -> bool: ...
    @property
    def sale_phases(self) -> str: ...
    @property
    def sale_starts_at(self) -> datetime | None: ...
    @property
    def sale_ends_at(self) -> datetime | None: ...


def sale_opens_at(*, product: _Product, campaign: _Campaign) -> datetime:
    """The instant the product goes on sale: its campaign's official start or its own later start."""
    starts = campaign.official_starts_at
    if product.sale_starts_at is not None and product.sale_starts_at > starts:
        starts = product.sale_starts_at
    return starts


def sale_closes_at(*, product: _Product, campaign: _Campaign) -> datetime:
    """The instant sales stop: the end of its sale phases (the official phase, or through the follow-up) or its
    own earlier end."""
    ends = campaign.followup_starts_at if product.sale_phases == "official" else campaign.ends_at
    if product.sale_ends_at is not None and product.sale_ends_at < ends:
        ends = product.sale_ends_at
    return ends


def sale_state(*, product: _Product, campaign: _Campaign, now: datetime) -> SaleState:
    """'on_sale' when an order placed at `now` may succeed (stock and limits aside), 'upcoming' before,
    'ended' after — or 'ended' when the product is unlisted or its campaign unpublished."""
    if not (product.is_active and campaign.is_published):
        return "ended"
    if now < sale_opens_at(product=product, campaign=campaign):
        return "upcoming"
    if now >= sale_closes_at(product=product, campaign=campaign):
        return "ended"
    return "on_sale"


def price_after_discount(*, price: int, discount_percent: int | Decimal) -> int:
    """What a member pays: the price less a member level's mall discount (0-100 %, cents of a percent allowed),
    rounded up — ceil(price × (100 − pct) / 100) — at least 1 point (as mall_order_place() computes it)."""
    discount = min(max(Decimal(discount_percent), Decimal(0)), Decimal(100))
    return max(1, math.ceil(Decimal(price) * (100 - discount) / 100))


def max_list_price(*, balance: int, discount_percent: int | Decimal) -> int:
    """The highest list price a member with `balance` spendable points can pay after their discount:
    price_after_discount(p) <= balance  <=>  p <= floor(balance × 100 / (100 − pct)) (the "affordable" filter)."""
    discount = min(max(Decimal(discount_percent), Decimal(0)), Decimal(99))
    return max(0, math.floor(Decimal(balance) * 100 / (100 - discount)))


def code_masked(code: str) -> str:
    """A code as lists show it: only its last four characters."""
    if len(code) <= 4:
        return MASK * len(code)
    return MASK * min(len(code) - 4, 8) + code[-4:]
