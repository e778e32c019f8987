"""Builders for a prize wheel on a campaign: shared by tests, bench/ and `seed_demo` (why plain functions: see
campaigns/builders.py). Everything goes through wheel_save / prize_save."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from campaigns.models import Campaign
from lottery.models import Prize, PrizeKind, Wheel
from lottery.services import prize_save, wheel_save


def wheel_build(
    *, campaign: Campaign, prizes: Iterable[dict[str, Any]] = (), none_weight: int = 100, **fields: Any
) -> Wheel:
    """A wheel on `campaign` (`fields`: cost_points, free_spins_per_day, daily_cap...; 50 points a spin unless
    given) with its "thanks for playing" slot of `none_weight` and then `prizes` in order, each a `prize_add`
    keyword set (`kind`, `name`, `weight`, `stock`, any prize field)."""
    wheel = wheel_save(wheel=Wheel(campaign=campaign, **{"cost_points": 50, **fields}), none_weight=none_weight)
    for order, prize in enumerate(prizes, start=1):
        prize_add(wheel=wheel, **{"sort_order": order, **prize})
    return wheel


def prize_add(
    *,
    wheel: Wheel,
    kind: str = PrizeKind.PHYSICAL,
    name: str = "华为手机",
    name_en: str | None = None,
    weight: int = 10,
    stock: int | None = 5,
    **fields: Any,
) -> Prize:
    """A saved prize on `wheel`, valid for its kind by default (a value of ¥100; points prizes give 100 points,
    multiplier cards double for 24 hours); `fields` set or override any prize field."""
    defaults: dict[str, Any] = {"unit_value_cny": Decimal("100.00")}
    if kind == PrizeKind.POINTS:
        defaults["points_amount"] = 100
    if kind == PrizeKind.MULTIPLIER_CARD:
        defaults.update(multiplier_percent=200, multiplier_hours=24)
    data = {"kind": kind, "name": name, "name_en": name if name_en is None else name_en, "weight": weight}
    return prize_save(prize=Prize(wheel=wheel), data={**defaults, **data, "stock_total": stock, **fields})
