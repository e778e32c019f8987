from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import campaign_save

DAY = timedelta(days=1)


def campaign_data(*, now: datetime | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid campaign in its official phase around `now` (warm-up 7 days ago ... ends in 35 days)."""
    now = now or timezone.now()
    data: dict[str, Any] = {
        "name": "积分狂欢",
        "name_en": "Points Carnival",
        "slug": "carnival",
        "theme": "好礼不停",
        "theme_en": "Rewards that never stop",
        "warmup_starts_at": now - 7 * DAY,
        "official_starts_at": now - 3 * DAY,
        "followup_starts_at": now + 25 * DAY,
        "ends_at": now + 35 * DAY,
        "rules": "第一条规则。\n\n第二条规则。",
        "rules_en": "First rule.\n\nSecond rule.",
        "is_published": True,
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_campaign(db: Any) -> Callable[..., Campaign]:
    def factory(**overrides: Any) -> Campaign:
        return campaign_save(data=campaign_data(**overrides))

    return factory
