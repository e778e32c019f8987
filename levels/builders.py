"""Builders of a ladder, shared by tests, bench/ and the demo seed (levels/demo.py): plain functions over
levels.services.ladder_save, so a fixture can only build a ladder the product accepts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from campaigns.models import Campaign
from levels.models import Ladder
from levels.services import ladder_save

# 青铜 / Bronze, 白银 / Silver, 黄金 / Gold, 铂金 / Platinum: points earned, with optional spend and check-in days.
DEMO_LEVELS: list[dict[str, Any]] = [
    {
        "rank": 0,
        "name": "青铜",
        "name_en": "Bronze",
        "min_points_earned": 0,
        "benefits": "参与全部活动",
        "benefits_en": "Join every campaign",
    },
    {
        "rank": 1,
        "name": "白银",
        "name_en": "Silver",
        "min_points_earned": 500,
        "min_checkin_days": 3,
        "reward_points": 50,
        "discount_percent": Decimal("2"),
        "benefits": "商城 98 折，升级奖励 50 积分",
        "benefits_en": "2% off in the mall, 50 points when you reach it",
    },
    {
        "rank": 2,
        "name": "黄金",
        "name_en": "Gold",
        "min_points_earned": 1000,
        "min_spend": 300,
        "min_checkin_days": 7,
        "reward_points": 100,
        "discount_percent": Decimal("5"),
        "benefits": "商城 95 折，升级奖励 100 积分",
        "benefits_en": "5% off in the mall, 100 points when you reach it",
    },
    {
        "rank": 3,
        "name": "铂金",
        "name_en": "Platinum",
        "min_points_earned": 5000,
        "min_spend": 2000,
        "min_referrals": 3,
        "min_checkin_days": 20,
        "reward_points": 300,
        "discount_percent": Decimal("10"),
        "priority_support": True,
        "benefits": "商城 9 折，专属客服，升级奖励 300 积分",
        "benefits_en": "10% off in the mall, priority support, 300 points when you reach it",
    },
]


def ladder_build(
    *, campaign: Campaign, levels: list[dict[str, Any]] | None = None, active: bool = True, **fields: Any
) -> Ladder:
    """An (active) ladder of `campaign` with `levels` (default DEMO_LEVELS); `fields` override the ladder's."""
    data: dict[str, Any] = {"name": "会员等级", "name_en": "Member levels", "combine": "all", "period": "none"}
    data.update(fields)
    ladder = Ladder(campaign=campaign, active=active, **data)
    return ladder_save(ladder=ladder, levels=[dict(item) for item in (levels or DEMO_LEVELS)])
