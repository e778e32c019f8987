from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from campaigns.builders import campaign_live_data
from campaigns.models import Campaign
from campaigns.services import campaign_save

DAY = timedelta(days=1)


def campaign_data(*, now: datetime | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid campaign in its official phase around `now` (campaigns.builders: warm-up 7 days ago ... ends in
    35 days), with a theme and the model's default expiry rule (end of the year)."""
    defaults: dict[str, Any] = {"theme": "好礼不停", "theme_en": "Rewards that never stop", "expiry_rule": "year_end"}
    return campaign_live_data(now=now or timezone.now(), **{**defaults, **overrides})


@pytest.fixture
def make_campaign(db: Any) -> Callable[..., Campaign]:
    def factory(**overrides: Any) -> Campaign:
        return campaign_save(data=campaign_data(**overrides))

    return factory
