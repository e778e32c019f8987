"""A member's level in the browser: they sign in, follow the profile's level card to /me/level/ and see their level,
the progress bars towards the next one (with text), and every level's benefits — in English and in Chinese; the
mall's cards show their member price and still fit a phone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from campaigns.builders import campaign_live, member_fund
from campaigns.models import Campaign
from levels.builders import ladder_build
from levels.services import member_level_evaluate
from mall.builders import product_build
from tests.e2e.test_accessibility import axe_context, page_check  # noqa: F401 — axe_context is a fixture
from tests.e2e.test_phone_layout import fits

pytestmark = pytest.mark.browser

LEVELS: list[dict[str, Any]] = [
    {"rank": 0, "name": "青铜", "name_en": "Bronze", "min_points_earned": 0},
    {
        "rank": 1,
        "name": "白银",
        "name_en": "Silver",
        "min_points_earned": 500,
        "discount_percent": "2",
        "benefits": "商城 98 折",
        "benefits_en": "2% off in the mall",
    },
    {
        "rank": 2,
        "name": "黄金",
        "name_en": "Gold",
        "min_points_earned": 2000,
        "min_checkin_days": 5,
        "benefits": "商城 95 折，专属客服",
        "benefits_en": "5% off in the mall, priority support",
    },
]


@pytest.fixture
def climber(db: Any, member: User) -> User:
    """A member who earned 800 points: Silver, on the way to Gold (2,000 points and 5 check-in days, both needed)."""
    now = timezone.now()
    campaign = campaign_live(now=now, is_featured=True)
    ladder_build(campaign=campaign, levels=LEVELS, combine="all")
    member_fund(campaign=campaign, user_id=member.pk, points=800, now=now, key="e2e:level")
    member_level_evaluate(user_id=member.pk, now=now)
    return member


@pytest.mark.parametrize(
    ("language", "level", "next_title", "benefit"),
    [
        ("en", "Silver", "On the way to Gold", "5% off in the mall, priority support"),
        ("zh-hans", "白银", "黄金", "商城 95 折，专属客服"),
    ],
)
def test_a_member_sees_their_level_progress_and_benefits(  # noqa: PLR0917 — fixtures and parameters
    page: Page,
    climber: User,
    login: Callable[..., None],
    switch_language: Callable[[Page, str], None],
    language: str,
    level: str,
    next_title: str,
    benefit: str,
) -> None:
    login(page, str(climber.phone))
    page.goto("/accounts/profile/")
    switch_language(page, language)
    expect(page.get_by_test_id("profile-level-name")).to_have_text(level)
    page.get_by_test_id("profile-level-link").click()
    expect(page.get_by_test_id("level-name")).to_have_text(level)
    expect(page.get_by_test_id("level-current")).to_have_attribute("data-rank", "1")
    expect(page.get_by_test_id("level-progress").get_by_role("heading")).to_contain_text(next_title)
    points = page.get_by_test_id("progress-points_earned")
    expect(points.locator("progress")).to_have_attribute("value", "800")
    expect(points.locator("progress")).to_have_attribute("max", "2000")
    expect(points).to_contain_text("800")
    expect(points).to_contain_text("2000")
    expect(page.get_by_test_id("progress-checkin_days").locator("progress")).to_have_attribute("max", "5")
    expect(page.get_by_test_id("level-row-1")).to_have_attribute("aria-current", "true")
    expect(page.get_by_test_id("level-row-2")).to_contain_text(benefit)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_member_price_fits_the_catalogue_on_a_phone_and_passes_axe(
    *,
    axe_context: Any,  # noqa: F811 — the fixture imported above
    page: Page,
    climber: User,
    language: str,
    live_server: Any,
    login_as: Callable[[Page, User], None],
    screenshot: Callable[..., Any],
) -> None:
    """Silver (2 % off): every card shows the struck list price, the member's price and the level tag; the
    catalogue still fits a 360 px screen, and axe-core finds nothing."""
    campaign = Campaign.objects.get(is_featured=True)
    name = "会员专享好礼" if language == "zh-hans" else "Member gift"
    for n in range(4):
        product_build(campaign=campaign, points_price=123456 + n, delivery="instructions", name=f"{name} {n}")
    page.set_viewport_size({"width": 360, "height": 740})
    login_as(page, climber)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page_check(page, url="/mall/", name="mall-member-price", language=language, screenshot=screenshot)
    expect(page.get_by_test_id("discounted-price")).to_have_count(4)
    expect(page.get_by_test_id("level-discount").first).to_contain_text("2")
    fits(page, f"/mall/ with member prices ({language})")
