"""Every member page fits a phone: at 360x740 and 390x844, in both languages, no page is wider than the screen
(before and after a spin, with the win dialog open), the header is one row (the signed-in links sit behind a
menu), and a member who cannot afford a spin sees a disabled button with the reason before tapping."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from accounts.models import User
from campaigns.builders import campaign_live
from campaigns.services import campaign_points_grant
from levels.builders import ladder_build
from lottery.builders import wheel_build
from lottery.models import Prize, PrizeKind, Wheel
from lottery.services import prize_save
from mall.builders import category_build, product_build
from mall.models import Product
from points.kinds import AWARD

pytestmark = pytest.mark.browser

HEADER_MAX_HEIGHT = 64  # px: one row of the header
PAGES = {
    "home": "/",
    "campaign": "/c/carnival/",
    "rules": "/c/carnival/rules/",
    "wheel": "/c/carnival/wheel/",
    "checkin": "/c/carnival/checkin/",
    "tasks": "/c/carnival/tasks/",
    "my-points": "/points/",
    "my-prizes": "/me/prizes/",
    "fairness": "/c/carnival/wheel/fairness/",
    "mall": "/mall/",
    "mall-product": "/mall/p/{product}/",
    "mall-redeem": "/mall/p/{product}/redeem/",
    "my-redemptions": "/me/redemptions/",
    "invite": "/me/invite/",
    "leaderboard": "/c/carnival/leaderboard/",
    "my-level": "/me/level/",
}


def t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def wheel(db: Any) -> Wheel:
    campaign = campaign_live(now=timezone.now(), rules="每次抽奖消耗50积分。" * 30, is_featured=True)
    wheel = wheel_build(campaign=campaign, cost_points=50, daily_cap=5)
    # Long names: the wheel must shorten them by its rule, the odds table must wrap them.
    prize_save(
        prize=Prize(wheel=wheel),
        data={"kind": PrizeKind.POINTS, "name": "超级积分大礼包（限时 500 积分）",
              "name_en": "Super points bonus pack (limited time, 500 points)", "weight": 10**9,
              "stock_total": 50, "points_amount": 500},
    )  # fmt: skip
    prize_save(
        prize=Prize(wheel=wheel),
        data={"kind": PrizeKind.POINTS, "name": "会员升级券", "name_en": "Membership upgrade voucher", "weight": 1,
              "stock_total": 50, "points_amount": 10},
    )  # fmt: skip
    # A mall product with long names in both languages, delivered to the door or picked up.
    product_build(
        campaign=wheel.campaign, delivery="physical", physical_methods="both", points_price=150,
        category=category_build(slug="fitness", name="健身课程体验券", name_en="Fitness class vouchers"),
        name="超值健身私教体验课（限时兑换，每人限两次）",
        name_en="Personal fitness training trial (limited time, two per member)",
        pickup_location="上海市浦东新区世纪大道100号环球金融中心地下一层服务台",
        pickup_location_en="Service desk, B1, Shanghai World Financial Center, 100 Century Avenue, Pudong",
    )  # fmt: skip
    # Member levels with long names and benefits in both languages (the level page must wrap them at 360 px).
    ladder_build(campaign=wheel.campaign, name="会员成长等级体系（年度）", name_en="Annual member growth levels")
    return wheel


def fits(page: Page, where: str) -> None:
    """No horizontal overflow, and a one-row header."""
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{where}: the page is {width}px wide on a {inner}px screen"
    height = page.locator("header.topbar").bounding_box()["height"]  # type: ignore[index]
    assert height <= HEADER_MAX_HEIGHT, f"{where}: the header is {height}px high (more than one row)"


@pytest.mark.parametrize("size", [(360, 740), (390, 844)], ids=["360", "390"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_member_page_fits_the_phone(
    *,
    page: Page,
    language: str,
    size: tuple[int, int],
    wheel: Wheel,
    make_user: Callable[..., User],
    login_as: Callable[[Page, User], None],
    switch_language: Callable[[Page, str], None],
    screenshot: Callable[..., Any],
) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    member = make_user(display_name="Xiao Hong")
    campaign_points_grant(
        campaign=wheel.campaign, user_id=member.pk, amount=200, kind=AWARD, key="e2e-fund", now=timezone.now()
    )
    login_as(page, member)
    page.goto("/")
    if language == "en":
        switch_language(page, "en")
    expect(page.locator("html")).to_have_attribute("lang", language)

    product = Product.objects.get()
    for name, url in PAGES.items():
        page.goto(url.format(product=product.pk))
        fits(page, f"{name} ({language}, {size[0]}px)")
        if size[0] == 360:
            screenshot(page, f"phone-{name}-{language}-360")

    # The header menu opens below the one-row header and holds the signed-in links.
    page.get_by_test_id("nav-menu").click()
    expect(page.get_by_test_id("nav-prizes")).to_be_visible()
    fits(page, "open menu")
    page.get_by_test_id("nav-menu").click()

    # The wheel, after a spin, with the win dialog open: still no wider than the screen.
    page.goto(PAGES["wheel"])
    # Labels may be shortened; a tap on a slice names the prize in full.
    long_name = (
        "超级积分大礼包（限时 500 积分）"
        if language == "zh-hans"
        else "Super points bonus pack (limited time, 500 points)"
    )
    big = page.locator("[data-testid=segment]").filter(has=page.locator("title", has_text=long_name))
    if language == "en":  # too long for the slice even on two lines: shortened by the rule
        assert long_name not in page.locator("[data-wheel-disc] text").all_text_contents()
    big.locator("path").click()
    expect(page.get_by_test_id("wheel-caption")).to_have_text(long_name)
    expect(page.get_by_test_id("spin-reason")).to_be_hidden()
    page.get_by_test_id("spin-button").click()
    expect(page.get_by_test_id("spin-result")).to_be_visible(timeout=15_000)
    fits(page, f"wheel after a spin ({language}, {size[0]}px)")
    card = page.locator(".spin-result-card").bounding_box()
    assert card is not None
    assert card["x"] >= 0
    assert card["x"] + card["width"] <= size[0], "the win dialog is cut off"
    # No label on the resting wheel is upside down: each one's rotation keeps its text within ±90° of upright.
    upside_down = page.evaluate(
        """() => {
          const disc = document.querySelector('[data-wheel-disc]');
          const turn = Number(disc.dataset.rotation);
          return Array.from(disc.querySelectorAll('text[data-centre]')).filter((text) => {
            const m = /rotate\\(([-\\d.]+)\\)/.exec(text.getAttribute('transform'));
            const angle = ((Number(m[1]) + turn) % 360 + 360) % 360;
            return angle > 90 && angle < 270;
          }).length;
        }"""
    )
    assert upside_down == 0
    if size[0] == 360:
        screenshot(page, f"phone-wheel-after-spin-{language}-360", full_page=False)
    page.get_by_test_id("result-close").click()
    fits(page, f"wheel after closing the result ({language}, {size[0]}px)")
    if size[0] == 360:
        screenshot(page, f"phone-wheel-after-spin-closed-{language}-360", full_page=False)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_member_who_cannot_afford_a_spin_sees_why_before_tapping(
    *,
    page: Page,
    language: str,
    wheel: Wheel,
    make_user: Callable[..., User],
    login_as: Callable[[Page, User], None],
    switch_language: Callable[[Page, str], None],
    screenshot: Callable[..., Any],
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    member = make_user()
    campaign_points_grant(
        campaign=wheel.campaign, user_id=member.pk, amount=25, kind=AWARD, key="e2e-fund", now=timezone.now()
    )
    login_as(page, member)
    page.goto("/")
    if language == "en":
        switch_language(page, "en")
    page.goto(PAGES["wheel"])
    button = page.get_by_test_id("spin-button")
    expect(button).to_be_disabled()
    expect(button).to_have_text(t(language, "Not enough points"))
    reason = page.get_by_test_id("spin-reason")
    expect(reason).to_be_visible()
    expect(reason).to_contain_text(t_plural(language, 50))
    expect(reason.get_by_role("link", name=t(language, "Daily check-in"))).to_be_visible()
    fits(page, f"wheel, cannot afford ({language})")
    screenshot(page, f"phone-wheel-cannot-afford-{language}", full_page=False)


def t_plural(language: str, cost: int) -> str:
    with translation.override(language):
        return translation.ngettext(
            "A spin costs %(cost)d point. Earn more with the daily check-in and tasks, then come back.",
            "A spin costs %(cost)d points. Earn more with the daily check-in and tasks, then come back.",
            cost,
        ) % {"cost": cost}


def test_on_a_wide_screen_the_signed_in_links_sit_in_the_header_row(
    *, page: Page, wheel: Wheel, make_user: Callable[..., User], login_as: Callable[[Page, User], None]
) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    login_as(page, make_user())
    page.goto(PAGES["campaign"])
    expect(page.get_by_test_id("nav-menu")).to_be_hidden()
    expect(page.get_by_test_id("nav-prizes")).to_be_visible()
    expect(page.get_by_test_id("nav-logout")).to_be_visible()
    fits(page, "campaign at 1024px")
    page.get_by_test_id("nav-prizes").click()
    expect(page).to_have_url(re.compile(r"/me/prizes/$"))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_signed_out_pages_fit_a_360_px_phone_with_a_one_row_header(
    *,
    page: Page,
    language: str,
    wheel: Wheel,
    switch_language: Callable[[Page, str], None],
    screenshot: Callable[..., Any],
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/")
    if language == "en":
        switch_language(page, "en")
    expect(page.get_by_test_id("nav-login")).to_be_visible()
    expect(page.get_by_test_id("nav-register")).to_be_visible()
    for name, url in {"home": "/", "campaigns": "/c/", "campaign": PAGES["campaign"], "rules": PAGES["rules"],
                      "login": "/accounts/login/", "register": "/accounts/register/"}.items():  # fmt: skip
        page.goto(url)
        fits(page, f"signed out: {name} ({language})")
    screenshot(page, f"phone-register-signed-out-{language}-360", full_page=False)


@pytest.mark.parametrize("width", [640, 900])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_between_phone_and_desktop_the_signed_in_header_keeps_one_row(
    *,
    page: Page,
    language: str,
    width: int,
    wheel: Wheel,
    make_user: Callable[..., User],
    login_as: Callable[[Page, User], None],
    switch_language: Callable[[Page, str], None],
) -> None:
    """Tablets and narrow windows: the signed-in links (the mall's among them) sit behind the menu until they all
    fit in the header row beside the brand and the language switch."""
    page.set_viewport_size({"width": width, "height": 800})
    login_as(page, make_user())
    page.goto(PAGES["mall"])
    if language == "en":
        switch_language(page, "en")
    fits(page, f"mall at {width}px ({language})")
    menu_shown = page.get_by_test_id("nav-menu").is_visible()
    assert menu_shown == (width < 900), f"at {width}px the menu button should {'' if width < 900 else 'not '}show"
    if menu_shown:
        page.get_by_test_id("nav-menu").click()
    expect(page.get_by_test_id("nav-mall")).to_be_visible()
    expect(page.get_by_test_id("nav-redemptions")).to_be_visible()
    page.get_by_test_id("nav-redemptions").click()
    expect(page).to_have_url(re.compile(r"/me/redemptions/$"))
    fits(page, f"my redemptions at {width}px ({language})")
