"""The points mall in a 360-px phone browser, in both shipped languages: a member browses the catalogue, narrows it
to what their points buy, redeems a code product through the confirm sheet and reveals the code; store staff verify
a member's pickup code on the pickup page, once. Every page fits the phone. The campaign is built around the real
current time."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from accounts.models import User
from campaigns.builders import campaign_live, member_fund
from campaigns.models import Campaign
from mall.builders import category_build, product_build
from mall.models import CodeReveal, Order, OrderStatus, Product
from mall.orders import order_place
from points import selectors as ledger

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
PICKUP_CODE = "7K3M9P2Q4R"  # set on the order, so the test knows what the member shows


def t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def fits(page: Page, where: str) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{where}: the page is {width}px wide on a {inner}px screen"


@pytest.fixture
def campaign(db: Any) -> Campaign:
    return campaign_live(now=timezone.now(), is_featured=True)


@pytest.fixture
def shelf(campaign: Campaign) -> dict[str, Product]:
    movies = category_build(slug="movies", name="电影票", name_en="Movie tickets", icon="🎬", position=1)
    books = category_build(slug="books", name="图书", name_en="Books", icon="📚", position=2)
    return {
        "ticket": product_build(
            campaign=campaign, delivery="code", category=movies, name="万达电影兑换券", name_en="Wanda movie voucher",
            points_price=120, stock=5, limit_per_member=2, description="全国影院通用。",
            description_en="Valid in every cinema.", instructions="在影城 App 输入兑换码。",
            instructions_en="Enter the code in the cinema app.",
        ),
        "atlas": product_build(
            campaign=campaign, category=books, name="精装世界地图集", name_en="Deluxe world atlas", points_price=5000,
            stock=2,
        ),
    }  # fmt: skip


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_member_browses_filters_redeems_a_code_and_reveals_it(
    *,
    page: Page,
    live_server: Any,
    language: str,
    campaign: Campaign,
    shelf: dict[str, Product],
    make_user: Callable[..., User],
    login_as: Callable[[Page, User], None],
    switch_language: Callable[[Page, str], None],
    screenshot: Callable[..., Any],
) -> None:
    page.set_viewport_size(PHONE)
    zh = language == "zh-hans"
    ticket, atlas = ("万达电影兑换券", "精装世界地图集") if zh else ("Wanda movie voucher", "Deluxe world atlas")
    member = make_user(display_name="小红" if zh else "Xiao Hong")
    member_fund(campaign=campaign, user_id=member.pk, points=300, now=timezone.now(), key="e2e-mall")
    login_as(page, member)
    page.goto("/")
    if language == "en":
        switch_language(page, "en")

    # From the home page into the mall: both products, the member's balance.
    page.get_by_test_id("entrance-mall").click()
    expect(page).to_have_url(live_server.url + "/mall/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t(language, "Redeem points"))
    expect(page.get_by_test_id("mall-balance")).to_contain_text("300")
    names = page.get_by_test_id("product-name")
    expect(names).to_have_text([ticket, atlas])
    fits(page, f"catalogue ({language})")
    screenshot(page, f"mall-catalogue-{language}-360")

    # A category chip, then back to all; then only what 300 points buy.
    page.get_by_test_id("category-books").click()
    expect(names).to_have_text([atlas])
    expect(page.get_by_test_id("category-books")).to_have_attribute("aria-current", "page")
    page.get_by_test_id("category-all").click()
    expect(names).to_have_count(2)
    page.get_by_test_id("filter-affordable").click()
    expect(page).to_have_url(re.compile(r"affordable=1"))
    expect(page.get_by_test_id("filter-affordable")).to_have_attribute("aria-current", "page")
    expect(names).to_have_text([ticket])
    # A search keeps the filter.
    page.get_by_test_id("mall-q").fill("atlas" if language == "en" else "地图")
    page.get_by_test_id("mall-search-submit").click()
    expect(page.get_by_test_id("no-products")).to_be_visible()
    page.get_by_test_id("filter-all-prices").click()
    expect(names).to_have_text([atlas])
    page.get_by_test_id("mall-q").fill("")
    page.get_by_test_id("mall-search-submit").click()
    expect(names).to_have_count(2)
    page.get_by_test_id("filter-affordable").click()
    expect(names).to_have_text([ticket])
    fits(page, f"catalogue, affordable ({language})")
    screenshot(page, f"mall-affordable-{language}-360")

    # The product page: price, stock, the limit and how it is delivered.
    names.first.click()
    expect(page.get_by_test_id("product-title")).to_have_text(ticket)
    expect(page.get_by_test_id("product-stock")).to_contain_text("5")
    expect(page.get_by_test_id("limit-member")).to_contain_text("2")
    description = "全国影院通用。" if zh else "Valid in every cinema."
    expect(page.get_by_test_id("product-description")).to_contain_text(description)
    fits(page, f"product ({language})")
    screenshot(page, f"mall-product-{language}-360")

    # The confirm sheet: price, balance and what is left after; confirming places the order.
    page.get_by_test_id("redeem-button").click()
    expect(page.get_by_test_id("confirm-name")).to_have_text(ticket)
    expect(page.get_by_test_id("confirm-balance")).to_contain_text("300")
    expect(page.get_by_test_id("confirm-after")).to_contain_text("180")
    fits(page, f"confirm sheet ({language})")
    screenshot(page, f"mall-confirm-{language}-360")
    page.get_by_test_id("redeem-submit").click()

    # The result: the code masked until the member asks for it; each reveal is logged.
    order = Order.objects.get(user=member)
    code = order.code.code
    expect(page).to_have_url(live_server.url + f"/mall/orders/{order.pk}/")
    expect(page.locator(".msg-success")).to_be_visible()
    expect(page.get_by_test_id("order-code-masked")).to_contain_text(code[-4:])
    expect(page.get_by_test_id("order-code-masked")).not_to_contain_text(code)
    expect(page.get_by_test_id("order-instructions")).to_contain_text(
        "在影城 App 输入兑换码。" if zh else "Enter the code in the cinema app."
    )
    fits(page, f"order ({language})")
    page.get_by_test_id("reveal-button").click()
    expect(page.get_by_test_id("order-code")).to_have_text(code)
    assert CodeReveal.objects.filter(order=order).count() == 1
    assert ledger.balance_for(user_id=member.pk).spendable == 180
    assert Product.objects.get(pk=shelf["ticket"].pk).stock == 4
    fits(page, f"order, code revealed ({language})")
    screenshot(page, f"mall-code-revealed-{language}-360")

    # My redemptions (header menu): the order with its code masked again.
    page.get_by_test_id("nav-menu").click()
    page.get_by_test_id("nav-redemptions").click()
    expect(page).to_have_url(live_server.url + "/me/redemptions/")
    row = page.get_by_test_id("redemption")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("redemption-name")).to_have_text(ticket)
    expect(row.get_by_test_id("redemption-code")).to_contain_text(code[-4:])
    expect(row.get_by_test_id("redemption-code")).not_to_contain_text(code)
    fits(page, f"my redemptions ({language})")
    screenshot(page, f"mall-redemptions-{language}-360")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_staff_verify_a_members_pickup_once(
    *,
    page: Page,
    live_server: Any,
    language: str,
    campaign: Campaign,
    make_user: Callable[..., User],
    staff: Callable[[str], tuple[User, Any]],
    login_as: Callable[[Page, User], None],
    switch_language: Callable[[Page, str], None],
    screenshot: Callable[..., Any],
) -> None:
    page.set_viewport_size(PHONE)
    zh = language == "zh-hans"
    member = make_user(display_name="小红" if zh else "Xiao Hong")
    member_fund(campaign=campaign, user_id=member.pk, points=500, now=timezone.now(), key="e2e-pickup")
    item = product_build(
        campaign=campaign, delivery="physical", physical_methods="pickup", name="运动水杯", name_en="Sports bottle",
        pickup_location="南京东路 1 号门店", pickup_location_en="Store at 1 East Nanjing Road", points_price=80,
    )  # fmt: skip
    order = order_place(product_id=item.pk, user_id=member.pk, method="pickup").order
    Order.objects.filter(pk=order.pk).update(pickup_code=PICKUP_CODE)

    # The member's order page shows the pickup code and its QR code.
    login_as(page, member)
    page.goto("/")
    if language == "en":
        switch_language(page, "en")
    page.goto(f"/mall/orders/{order.pk}/")
    expect(page.get_by_test_id("pickup-code")).to_have_text(PICKUP_CODE)
    expect(page.locator("[data-testid=pickup-qr] svg.qr")).to_be_visible()
    fits(page, f"pickup order ({language})")
    screenshot(page, f"mall-pickup-order-{language}-360")

    # Store staff (operators) type the code as they read it — with a space and in lower case.
    operator, _client = staff("operator")
    page.context.clear_cookies()
    login_as(page, operator)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page.goto("/staff/pickup/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t(language, "Store pickup"))
    field = page.get_by_label(t(language, "Pickup code"))
    expect(field).to_be_focused()
    field.fill(f"{PICKUP_CODE[:5].lower()} {PICKUP_CODE[5:].lower()}")
    page.get_by_test_id("pickup-submit").click()
    verified = page.get_by_test_id("pickup-verified")
    expect(verified).to_be_visible()
    expect(verified.get_by_test_id("pickup-item")).to_have_text("运动水杯" if zh else "Sports bottle")
    expect(verified.get_by_test_id("pickup-member")).to_contain_text(member.phone[-4:])
    expect(verified.get_by_test_id("pickup-member")).not_to_contain_text(member.phone.removeprefix("+86"))
    fits(page, f"pickup verified ({language})")
    screenshot(page, f"mall-pickup-verified-{language}-360")
    done = Order.objects.get(pk=order.pk)
    assert done.status == OrderStatus.FULFILLED
    assert done.picked_up_by_id == operator.pk

    # The same code again: refused, clearly.
    page.get_by_label(t(language, "Pickup code")).fill(PICKUP_CODE)
    page.get_by_test_id("pickup-submit").click()
    expect(page.get_by_test_id("pickup-verified")).to_have_count(0)
    expect(page.locator('[data-field="code"]')).to_have_text(t(language, "This pickup code has already been used."))
    # The refused code is selected: the next code typed or scanned replaces it (static/js/pickup.js).
    selected = "() => { const f = document.activeElement; return [f.name, f.selectionStart, f.selectionEnd]; }"
    assert page.evaluate(selected) == ["code", 0, len(PICKUP_CODE)]
    fits(page, f"pickup refused ({language})")
    screenshot(page, f"mall-pickup-refused-{language}-360")
