"""Fixtures for the prize wheel: a campaign in its official phase, a wheel, prizes and funded members."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import campaign_points_grant, campaign_save
from lottery.models import PRIZE_SHIPMENT, Prize, PrizeKind, Wheel
from lottery.services import prize_save, wheel_save
from points.kinds import AWARD
from shipments.models import Shipment

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADDRESS = {
    "recipient": "王小明",
    "phone": "13800138000",
    "province": "上海市",
    "city": "上海市",
    "district": "浦东新区",
    "detail": "世纪大道 100 号",
    "postal_code": "200120",
}


@pytest.fixture
def campaign(db: Any) -> Campaign:
    """A published campaign whose official phase runs from yesterday for 30 days (so real-time pages work)."""
    now = timezone.now()
    return campaign_save(
        data={
            "name": "积分狂欢",
            "name_en": "Points Carnival",
            "slug": "carnival",
            "rules": "Spin responsibly.",
            "is_published": True,
            "warmup_starts_at": now - timedelta(days=3),
            "official_starts_at": now - timedelta(days=1),
            "followup_starts_at": now + timedelta(days=30),
            "ends_at": now + timedelta(days=40),
            "expiry_rule": "never",
        }
    )


@pytest.fixture
def wheel(campaign: Campaign) -> Wheel:
    """50 points a spin, no caps; only the "thanks for playing" slot (weight 100) until a test adds prizes."""
    return wheel_save(wheel=Wheel(campaign=campaign, cost_points=50))


@pytest.fixture
def add_prize(wheel: Wheel) -> Callable[..., Prize]:
    """add_prize(kind="physical", name=..., weight=..., stock=..., **fields) → a saved prize on `wheel`.
    Prizes are added before the campaign is live in real life; tests add them at any time (adding is always
    allowed)."""

    def make(kind: str = PrizeKind.PHYSICAL, *, name: str = "华为手机", weight: int = 10, stock: int | None = 5,
             **fields: Any) -> Prize:  # fmt: skip
        defaults: dict[str, Any] = {"unit_value_cny": Decimal("100.00")}
        if kind == PrizeKind.POINTS:
            defaults["points_amount"] = 100
        if kind == PrizeKind.MULTIPLIER_CARD:
            defaults.update(multiplier_percent=200, multiplier_hours=24)
        data = {"kind": kind, "name": name, "name_en": name, "weight": weight, "stock_total": stock}
        return prize_save(prize=Prize(wheel=wheel), data={**defaults, **data, **fields})

    return make


@pytest.fixture
def fund(campaign: Campaign) -> Callable[[int, int], None]:
    """fund(user_id, points): give a member spendable points in the campaign."""
    counter = iter(range(10**6))

    def give(user_id: int, points: int) -> None:
        campaign_points_grant(
            campaign=campaign,
            user_id=user_id,
            amount=points,
            kind=AWARD,
            key=f"test-fund:{user_id}:{next(counter)}",
            now=timezone.now(),
        )

    return give


def none_prize(wheel: Wheel) -> Prize:
    return Prize.objects.get(wheel=wheel, kind=PrizeKind.NONE)


def shipment_of(draw: Any) -> Shipment:
    """The shipment of a physical prize's draw (or draw id), fresh from the database."""
    return Shipment.objects.get(owner_kind=PRIZE_SHIPMENT, owner_id=getattr(draw, "pk", draw))
