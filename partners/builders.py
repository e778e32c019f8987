"""Builders for the partner programme: shared by tests, bench/ and `seed_demo` (plain functions)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from partners import services
from partners.models import Partner, PartnerTier, RebateSchedule
from partners.rebates import Band

# The plan's example bands: 0–50k 2 %, 50k–200k 3.5 %, from 200k 5 %.
EXAMPLE_BANDS = (Band(Decimal(0), Decimal(2)), Band(Decimal(50000), Decimal("3.5")), Band(Decimal(200000), Decimal(5)))


def schedule_build(
    *, name: str = "标准返利", method: str = RebateSchedule.Method.MARGINAL, bands: Any = EXAMPLE_BANDS
) -> RebateSchedule:
    existing = RebateSchedule.objects.filter(name=name, method=method).first()
    if existing is not None:
        return existing
    return services.rebate_schedule_save(schedule=None, name=name, method=method, bands=list(bands))


def tiers_build(*, method: str = RebateSchedule.Method.MARGINAL) -> list[PartnerTier]:
    """Three tiers (get or create by rank): 银牌/Silver (from joining), 金牌/Gold (6 months, 300k in 12 months),
    钻石/Diamond (24 months, 1.2M); Gold and Diamond earn a richer schedule."""
    standard = schedule_build(method=method)
    rich = schedule_build(
        name="高级返利",
        method=method,
        bands=(Band(Decimal(0), Decimal(3)), Band(Decimal(50000), Decimal("4.5")), Band(Decimal(200000), Decimal(6))),
    )
    specs = [
        (1, "银牌", "Silver", standard, Decimal(5), False, 0, Decimal(0)),
        (2, "金牌", "Gold", rich, Decimal(8), True, 6, Decimal(300000)),
        (3, "钻石", "Diamond", rich, Decimal(12), True, 24, Decimal(1200000)),
    ]
    tiers = []
    for rank, name, name_en, schedule, discount, priority, tenure, sales in specs:
        tier, _created = PartnerTier.objects.get_or_create(
            rank=rank,
            defaults={
                "name": name,
                "name_en": name_en,
                "schedule": schedule,
                "agency_discount": discount,
                "new_product_priority": priority,
                "marketing_plan": "季度联合营销方案" if priority else "",
                "marketing_plan_en": "A quarterly co-marketing plan" if priority else "",
                "min_tenure_months": tenure,
                "min_trailing_sales": sales,
            },
        )
        tiers.append(tier)
    return tiers


def partner_build(
    *, code: str, tier: PartnerTier | None = None, joined_at: date | None = None, **fields: Any
) -> Partner:
    existing = Partner.objects.filter(code=code.upper()).first()
    if existing is not None:
        return existing
    return services.partner_create(
        code=code,
        company=fields.pop("company", f"{code} 贸易有限公司"),
        tier=tier or tiers_build()[0],
        joined_at=joined_at or date(2026, 1, 1),
        **fields,
    )
