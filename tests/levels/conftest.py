"""Fixtures for member levels: a live campaign (Asia/Shanghai) and ladders built through levels.services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from campaigns.builders import campaign_live
from campaigns.models import Campaign
from levels.builders import ladder_build
from levels.models import Ladder

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Two levels on points earned only: 0 (entry) and 1000 (reward 50 points, 5 % off in the mall).
TWO_LEVELS: list[dict[str, Any]] = [
    {"rank": 0, "name": "青铜", "name_en": "Bronze", "min_points_earned": 0},
    {
        "rank": 1,
        "name": "黄金",
        "name_en": "Gold",
        "min_points_earned": 1000,
        "reward_points": 50,
        "discount_percent": "5",
        "benefits": "商城 95 折",
        "benefits_en": "5% off in the mall",
    },
]


def local(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


@pytest.fixture
def campaign(db: Any) -> Campaign:
    return campaign_live(now=timezone.now(), is_featured=True)


@pytest.fixture
def make_ladder(campaign: Campaign) -> Callable[..., Ladder]:
    def make(levels: list[dict[str, Any]] | None = None, **fields: Any) -> Ladder:
        return ladder_build(campaign=campaign, levels=levels or TWO_LEVELS, **fields)

    return make
