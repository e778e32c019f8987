"""Fixtures for the mall: a campaign in its official phase, funded members, product builders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from campaigns.builders import campaign_live, member_fund
from campaigns.models import Campaign
from mall.builders import product_build
from mall.models import Product


@pytest.fixture
def campaign(db: Any) -> Campaign:
    """A published campaign in its official phase now."""
    return campaign_live(now=timezone.now())


@pytest.fixture
def fund(campaign: Campaign) -> Callable[[int, int], None]:
    """fund(user_id, points): give a member spendable points in the campaign."""
    counter = iter(range(10**6))

    def give(user_id: int, points: int) -> None:
        member_fund(
            campaign=campaign, user_id=user_id, points=points, now=timezone.now(), key=f"fund:{user_id}:{next(counter)}"
        )

    return give


@pytest.fixture
def product(campaign: Campaign) -> Callable[..., Product]:
    """product(delivery=..., **fields) → a listed product of `campaign` (mall.builders.product_build)."""

    def make(**fields: Any) -> Product:
        return product_build(campaign=campaign, **fields)

    return make
