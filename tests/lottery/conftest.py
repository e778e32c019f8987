"""Fixtures for the prize wheel: a campaign in its official phase, a wheel, prizes and funded members."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from campaigns.builders import campaign_live, member_fund
from campaigns.models import Campaign
from lottery.builders import prize_add, wheel_build
from lottery.models import PRIZE_SHIPMENT, Prize, PrizeKind, Wheel
from shipments.models import Shipment

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def campaign(db: Any) -> Campaign:
    """A published campaign in its official phase now (campaigns.builders.campaign_live; real-time pages work)."""
    return campaign_live(now=timezone.now(), rules="Spin responsibly.")


@pytest.fixture
def wheel(campaign: Campaign) -> Wheel:
    """50 points a spin, no caps; only the "thanks for playing" slot (weight 100) until a test adds prizes."""
    return wheel_build(campaign=campaign, cost_points=50)


@pytest.fixture
def add_prize(wheel: Wheel) -> Callable[..., Prize]:
    """add_prize(kind="physical", name=..., weight=..., stock=..., **fields) → a saved prize on `wheel`.
    Prizes are added before the campaign is live in real life; tests add them at any time (adding is always
    allowed)."""

    def make(kind: str = PrizeKind.PHYSICAL, **fields: Any) -> Prize:
        return prize_add(wheel=wheel, kind=kind, **fields)  # lottery.builders: valid defaults per kind

    return make


@pytest.fixture
def fund(campaign: Campaign) -> Callable[[int, int], None]:
    """fund(user_id, points): give a member spendable points in the campaign."""
    counter = iter(range(10**6))

    def give(user_id: int, points: int) -> None:
        key = f"test-fund:{user_id}:{next(counter)}"
        member_fund(campaign=campaign, user_id=user_id, points=points, now=timezone.now(), key=key)

    return give


def none_prize(wheel: Wheel) -> Prize:
    return Prize.objects.get(wheel=wheel, kind=PrizeKind.NONE)


def shipment_of(draw: Any) -> Shipment:
    """The shipment of a physical prize's draw (or draw id), fresh from the database."""
    return Shipment.objects.get(owner_kind=PRIZE_SHIPMENT, owner_id=getattr(draw, "pk", draw))
