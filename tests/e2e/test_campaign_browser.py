"""A new visitor lands on the home page of a phone browser: the newbie guide, the featured campaign and its
live countdown, in both shipped languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from campaigns.builders import campaign_live
from campaigns.models import Campaign

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")
STEPS = ["Check in every day", "Complete tasks", "Spend your points", "See my points"]


def t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def carnival(db: Any) -> Campaign:
    now = timezone.now()
    return campaign_live(
        now=now,
        name="积分狂欢，好礼不停",
        theme="天天签到赚积分，好礼兑不停",
        theme_en="Check in daily, earn points, win great rewards",
        followup_starts_at=now + timedelta(days=25, hours=5),
        rules="每日签到可得积分。\n\n积分可兑换礼品。",
        rules_en="Check in daily to earn points.\n\nSpend points on rewards.",
        is_featured=True,
        expiry_rule="year_end",
    )


def open_home(page: Page, live_server: Any, language: str) -> None:
    if language != "zh-hans":  # the browser asks for Chinese; a member who chose English has the cookie
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.newbie_guide
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_new_visitor_steps_through_the_guide_and_it_stays_dismissed(
    *, page: Page, live_server: Any, language: str, carnival: Campaign, screenshot: Callable[..., Any]
) -> None:
    assert CJK.search(t("zh-hans", STEPS[0]))  # the guide really is translated
    open_home(page, live_server, language)

    guide = page.get_by_test_id("newbie-guide")
    expect(guide).to_be_visible()
    steps = page.get_by_test_id("guide-step")
    expect(steps).to_have_count(4)
    page.wait_for_timeout(400)  # let the slide-in animation finish before the screenshot
    screenshot(page, f"home-guide-{language}", full_page=False)
    for index, title in enumerate(STEPS):
        expect(steps.nth(index)).to_be_visible()
        expect(steps.nth(index).get_by_role("heading")).to_have_text(t(language, title))
        for other in range(4):
            if other != index:
                expect(steps.nth(other)).to_be_hidden()
        if index < len(STEPS) - 1:
            page.get_by_test_id("guide-next").click()
    expect(page.get_by_test_id("guide-next")).to_be_hidden()
    page.get_by_test_id("guide-done").click()
    expect(guide).to_be_hidden()

    page.reload()
    expect(page.get_by_test_id("featured-campaign")).to_be_visible()
    page.wait_for_load_state("load")
    expect(guide).to_be_hidden()
    assert page.evaluate("localStorage.getItem('pm_guide_done')") == "1"
    assert any(c["name"] == "pm_guide_done" and c["value"] == "1" for c in page.context.cookies())

    # It can be opened again on purpose.
    page.get_by_test_id("guide-open").click()
    expect(guide).to_be_visible()
    page.get_by_test_id("guide-skip").click()
    expect(guide).to_be_hidden()


@pytest.mark.newbie_guide
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_featured_campaign_with_a_live_countdown(
    *, page: Page, live_server: Any, language: str, carnival: Campaign, screenshot: Callable[..., Any]
) -> None:
    open_home(page, live_server, language)
    page.get_by_test_id("guide-skip").click()  # skipping remembers it too
    expect(page.get_by_test_id("newbie-guide")).to_be_hidden()

    hero = page.get_by_test_id("featured-campaign")
    expect(hero.get_by_role("heading", level=1)).to_have_text(
        carnival.name if language == "zh-hans" else "Points Carnival"
    )
    with translation.override(language):
        official = str(carnival.phase_at(timezone.now()).label)
    expect(page.get_by_test_id("phase-badge")).to_have_text(re.compile(re.escape(official), re.I))

    countdown = page.get_by_test_id("countdown")
    expect(countdown).to_contain_text(t(language, "The official phase ends in"))
    expect(countdown.locator("[data-part=days]")).to_have_text("25")
    expect(countdown.locator("[data-part=hours]")).to_have_text(re.compile(r"^0[45]$"))
    expect(countdown).to_have_attribute("data-remaining", re.compile(r"^\d+$"))
    first = countdown.get_attribute("data-remaining")
    seconds = countdown.locator("[data-part=seconds]").inner_text()
    expect(countdown).not_to_have_attribute("data-remaining", first or "")  # it ticks
    expect(countdown.locator("[data-part=seconds]")).not_to_have_text(seconds)

    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    screenshot(page, f"home-campaign-{language}")

    page.get_by_test_id("entrance-rules").click()
    expect(page).to_have_url(re.compile(r"/c/carnival/rules/$"))
    expect(page.get_by_test_id("rules").locator("p")).to_have_count(2)
    screenshot(page, f"campaign-rules-{language}")

    page.goto(live_server.url + "/c/carnival/")
    expect(page.get_by_test_id("campaign-dates")).to_contain_text(t(language, "Official phase"))
    screenshot(page, f"campaign-detail-{language}")

    page.goto(live_server.url + "/")
    expect(page.get_by_test_id("newbie-guide")).to_be_hidden()
