"""A member spins the prize wheel in a phone-sized browser: the wheel turns and stops on the prize the server
drew, the result names it; they give a shipping address in "My prizes" and, once an operator has shipped it,
see the tracking number. In both shipped languages. The campaign is built around the real current time."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone, translation
from django.utils.text import capfirst
from playwright.sync_api import Page, Response, expect

from accounts.models import User
from campaigns.builders import campaign_live
from campaigns.models import Campaign
from campaigns.services import campaign_points_grant
from lottery.builders import wheel_build
from lottery.models import PRIZE_SHIPMENT, Draw, Prize, PrizeKind, Wheel
from lottery.services import prize_save
from points import selectors as ledger
from points.kinds import AWARD
from shipments.models import Shipment
from shipments.rules import ShipmentStatus
from shipments.services import shipment_transition

pytestmark = pytest.mark.browser


def is_spin_request(response: Response) -> bool:
    """The page's spin request: the public API's endpoint, not a page URL."""
    return response.request.method == "POST" and response.url.endswith("/api/v1/campaigns/carnival/wheel/spins")


def t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def wheel(db: Any) -> Wheel:
    campaign = campaign_live(now=timezone.now(), rules="每次抽奖消耗50积分。", is_featured=True)
    return wheel_build(campaign=campaign, cost_points=50, daily_cap=5)


@pytest.fixture
def phone(wheel: Wheel) -> Prize:
    """A physical prize with a weight so huge against "thanks for playing" (100) that it is the certain win."""
    prize_save(
        prize=Prize(wheel=wheel),
        data={"kind": PrizeKind.POINTS, "name": "100积分", "name_en": "100 points", "weight": 1, "stock_total": 50,
              "points_amount": 100},
    )  # fmt: skip
    return prize_save(
        prize=Prize(wheel=wheel),
        data={"kind": PrizeKind.PHYSICAL, "name": "华为手机", "name_en": "Huawei phone", "weight": 10**9,
              "stock_total": 3, "unit_value_cny": Decimal("3999.00")},
    )  # fmt: skip


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_member_spins_wins_a_phone_and_follows_its_shipment(
    *,
    page: Page,
    live_server: Any,
    language: str,
    wheel: Wheel,
    phone: Prize,
    make_user: Callable[..., User],
    login_as: Callable[[Page, User], None],
    switch_language: Callable[[Page, str], None],
    screenshot: Callable[..., Any],
) -> None:
    campaign: Campaign = wheel.campaign
    member = make_user(display_name="Xiao Hong")
    campaign_points_grant(
        campaign=campaign, user_id=member.pk, amount=200, kind=AWARD, key="e2e-fund", now=timezone.now()
    )
    prize_name = "华为手机" if language == "zh-hans" else "Huawei phone"
    login_as(page, member)

    # From the campaign page through the new entrance to the wheel.
    page.goto("/c/carnival/")
    if language == "en":
        switch_language(page, "en")
    expect(page.locator("html")).to_have_attribute("lang", language)
    screenshot(page, f"wheel-entrances-{language}", full_page=False)
    page.get_by_test_id("entrance-wheel").click()
    expect(page).to_have_url(live_server.url + "/c/carnival/wheel/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "积分抽奖大转盘" if language == "zh-hans" else "Prize wheel"
    )
    expect(page.get_by_test_id("balance")).to_have_text("200")
    expect(page.get_by_test_id("left-today")).to_have_text("5")
    expect(page.get_by_test_id("segment")).to_have_count(3)
    expect(page.get_by_test_id("odds-row")).to_have_count(3)
    phone_row = page.locator(f'[data-testid=odds-row][data-prize-id="{phone.pk}"]')
    expect(phone_row.get_by_test_id("odds-stock")).to_have_text("3")
    expect(page.get_by_test_id("odds-table")).to_contain_text(t(language, "unlimited"))
    expect(page.get_by_test_id("commitment")).to_have_text(wheel.seed_commitment)
    # Nothing on the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"wheel-page-{language}")

    # Spin: the page posts to the public API (the page's one-time token as Idempotency-Key); the wheel turns (a CSS
    # transition), stops on the slice of the prize in the API's response, then the result shows.
    disc = page.get_by_test_id("wheel-disc")
    token = page.get_by_test_id("spin-token").input_value()
    with page.expect_response(is_spin_request) as answer:
        page.get_by_test_id("spin-button").click()
    assert answer.value.request.header_value("Idempotency-Key") == token
    assert answer.value.status == 201
    spin = answer.value.json()
    expect(disc).to_have_class(re.compile(r"\bspinning\b"))
    expect(page.get_by_test_id("spin-button")).to_be_disabled()
    expect(page.get_by_test_id("spin-result")).to_be_hidden()  # not before the wheel has stopped
    result = page.get_by_test_id("spin-result")
    expect(result).to_be_visible()
    expect(disc).not_to_have_class(re.compile(r"\bspinning\b"))
    expect(page.get_by_test_id("result-title")).to_have_text(t(language, "You won %(prize)s!") % {"prize": prize_name})
    assert float(disc.get_attribute("data-rotation") or 0) >= 360 * 5  # several full turns
    assert disc.get_attribute("data-pointer-prize") == str(spin["prize"]["id"]) == str(phone.pk)  # under the pointer
    expect(page.get_by_test_id("balance")).to_have_text("150")
    expect(page.get_by_test_id("left-today")).to_have_text("4")
    draw = Draw.objects.get(user=member)
    assert draw.prize_id == phone.pk
    assert (spin["id"], spin["me"]["spendable"]) == (draw.pk, 150)
    assert result.get_attribute("data-draw-id") == str(draw.pk)
    assert ledger.balance_for(user_id=member.pk).spendable == 150
    screenshot(page, f"wheel-result-{language}", full_page=False)

    # The result offers the address form of this very prize.
    address_link = page.get_by_test_id("result-address")
    expect(address_link).to_have_attribute("href", f"/me/prizes/{draw.pk}/address/")
    page.get_by_test_id("result-close").click()
    expect(result).to_be_hidden()
    expect(page.get_by_test_id("spin-button")).to_be_enabled()

    # The fairness page lists the member's draw by its reference and shows its inputs (verifiable once the seed is
    # revealed).
    page.get_by_test_id("fairness-link").click()
    expect(page).to_have_url(live_server.url + "/c/carnival/wheel/fairness/")
    expect(page.get_by_test_id("commitment")).to_have_text(wheel.seed_commitment)
    expect(page.get_by_test_id("seed-hidden")).to_be_visible()
    expect(page.get_by_test_id("my-draw")).to_have_count(1)
    page.get_by_test_id("my-draw").get_by_role("link").click()
    details = page.get_by_test_id("draw-details")
    expect(details.get_by_test_id("draw-prize")).to_contain_text(prize_name)
    expect(details.get_by_test_id("draw-reference")).to_have_text(draw.reference)
    expect(details.get_by_test_id("draw-player")).to_have_text(draw.player_key)  # a key, never the member id
    expect(details.get_by_test_id("draw-roll")).to_have_text(str(draw.roll))
    expect(details.get_by_test_id("slot-hit")).to_contain_text(prize_name)
    expect(page.get_by_test_id("verify-later")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"wheel-fairness-{language}")

    # My prizes (header link): the phone waits for an address.
    page.get_by_test_id("nav-menu").click()  # signed-in links sit behind the header menu on a phone
    page.get_by_test_id("nav-prizes").click()
    expect(page).to_have_url(live_server.url + "/me/prizes/")
    card = page.get_by_test_id("prize")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("prize-name")).to_have_text(prize_name)
    expect(card.get_by_test_id("prize-status")).to_have_text(capfirst(t(language, "waiting for an address")))
    card.get_by_test_id("address-button").click()
    expect(page).to_have_url(live_server.url + f"/me/prizes/{draw.pk}/address/")
    expect(page.get_by_test_id("address-prize")).to_have_text(prize_name)
    form = page.get_by_test_id("address-form")
    form.locator("[name=recipient]").fill("王小红")
    form.locator("[name=phone]").fill("13800138000")
    form.locator("[name=province]").fill("浙江省")
    form.locator("[name=city]").fill("杭州市")
    form.locator("[name=district]").fill("西湖区")
    form.locator("[name=detail]").fill("文三路90号")
    form.locator("[name=postal_code]").fill("abc")  # wrong first: the error shows, nothing changes
    page.get_by_test_id("address-submit").click()
    expect(form.locator('[data-field="postal_code"]')).to_be_visible()
    assert Shipment.objects.get(owner_kind=PRIZE_SHIPMENT, owner_id=draw.pk).status == ShipmentStatus.AWAITING_ADDRESS
    screenshot(page, f"wheel-address-error-{language}")
    form.locator("[name=postal_code]").fill("310012")
    page.get_by_test_id("address-submit").click()

    expect(page).to_have_url(live_server.url + "/me/prizes/")
    expect(page.locator(".msg-success")).to_be_visible()
    card = page.get_by_test_id("prize")
    expect(card.get_by_test_id("prize-status")).to_have_text(capfirst(t(language, "ready to ship")))
    expect(card.get_by_test_id("prize-address")).to_contain_text("文三路90号")
    expect(card.get_by_test_id("address-button")).to_have_text(t(language, "Change address"))

    # An operator ships it; the member reloads and sees the carrier and tracking number.
    shipment = Shipment.objects.get(owner_kind=PRIZE_SHIPMENT, owner_id=draw.pk)
    shipment_transition(
        shipment_id=shipment.pk,
        to=ShipmentStatus.SHIPPED,
        carrier="顺丰速运",
        tracking_number="SF1234567890",
        now=timezone.now(),
    )
    page.reload()
    card = page.get_by_test_id("prize")
    expect(card.get_by_test_id("prize-status")).to_have_text(capfirst(t(language, "shipped")))
    expect(card.get_by_test_id("tracking-number")).to_have_text("SF1234567890")
    expect(card.get_by_test_id("tracking")).to_contain_text("顺丰速运")
    expect(card.get_by_test_id("address-button")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"wheel-my-prizes-shipped-{language}")


def test_many_slices_a_coupon_code_a_saved_address_and_too_few_points(
    *,
    page: Page,
    wheel: Wheel,
    phone: Prize,
    make_user: Callable[..., User],
    login_as: Callable[[Page, User], None],
    screenshot: Callable[..., Any],
) -> None:
    """Chinese (the default). A wheel with eight slices; the coupon's code shows in the result; a second spin
    wins the phone, which ships to the member's saved address; a spin without enough points shows the error and
    changes nothing."""
    from accounts.services import address_save
    from mall.codes import code_pool_import
    from mall.models import CodePool

    pool = CodePool.objects.create(name="coupons")
    assert code_pool_import(pool=pool, text="JD-50-AAAA\nJD-50-BBBB") == (2, [])
    extra = [
        (PrizeKind.COUPON, "京东E卡50元", {"code_pool": pool, "stock_total": 2}),
        (PrizeKind.MEMBERSHIP_VOUCHER, "PLUS会员月卡", {"stock_total": 10}),
        (
            PrizeKind.MULTIPLIER_CARD,
            "双倍积分卡",
            {"stock_total": 10, "multiplier_percent": 200, "multiplier_hours": 24},
        ),
        (PrizeKind.POINTS, "500积分", {"stock_total": 10, "points_amount": 500}),
        (PrizeKind.PHYSICAL, "小米充电宝20000mAh", {"stock_total": 10}),
    ]
    prizes = {
        name: prize_save(prize=Prize(wheel=wheel), data={"kind": kind, "name": name, "weight": 1, **fields})
        for kind, name, fields in extra
    }
    coupon = prizes["京东E卡50元"]
    Prize.objects.filter(pk=phone.pk).update(weight=1)
    Prize.objects.filter(pk=coupon.pk).update(weight=10**9)
    member = make_user(display_name="Li Lei")
    home = address_save(
        user=member,
        data={"recipient": "李雷", "phone": "13900139000", "province": "北京市", "city": "北京市",
              "district": "海淀区", "detail": "中关村大街1号", "postal_code": "100080"},
    )  # fmt: skip
    campaign_points_grant(
        campaign=wheel.campaign, user_id=member.pk, amount=120, kind=AWARD, key="fund", now=timezone.now()
    )
    login_as(page, member)
    page.goto("/c/carnival/wheel/")
    expect(page.get_by_test_id("segment")).to_have_count(8)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "wheel-eight-slices", full_page=False)

    with page.expect_response(is_spin_request) as answer:
        page.get_by_test_id("spin-button").click()
    expect(page.get_by_test_id("spin-result")).to_be_visible()
    first_key = answer.value.request.header_value("Idempotency-Key")
    draw = Draw.objects.get(user=member)
    assert draw.prize_id == coupon.pk
    assert answer.value.json()["code"] == draw.code
    assert page.get_by_test_id("wheel-disc").get_attribute("data-pointer-prize") == str(coupon.pk)
    expect(page.get_by_test_id("result-code")).to_have_text(draw.code)
    assert draw.code in {"JD-50-AAAA", "JD-50-BBBB"}
    expect(page.get_by_test_id("result-address")).to_be_hidden()
    expect(page.get_by_test_id("result-prizes")).to_be_visible()
    screenshot(page, "wheel-result-coupon", full_page=False)
    page.get_by_test_id("result-close").click()

    # Second spin (with a new Idempotency-Key): the phone.
    Prize.objects.filter(pk=coupon.pk).update(weight=1)
    Prize.objects.filter(pk=phone.pk).update(weight=10**9)
    with page.expect_response(is_spin_request) as answer:
        page.get_by_test_id("spin-button").click()
    assert answer.value.request.header_value("Idempotency-Key") not in (None, first_key)
    expect(page.get_by_test_id("result-address")).to_be_visible()
    second = Draw.objects.filter(user=member).order_by("-id").first()
    assert second is not None
    assert second.pk != draw.pk
    assert second.prize_id == phone.pk
    expect(page.get_by_test_id("balance")).to_have_text("20")
    page.get_by_test_id("result-close").click()

    # 20 points are not enough for a third spin: the button says so before any tap, with the reason and what to do.
    expect(page.get_by_test_id("spin-button")).to_be_disabled()
    expect(page.get_by_test_id("spin-button")).to_have_text(t("zh-hans", "Not enough points"))
    expect(page.get_by_test_id("spin-reason")).to_be_visible()
    expect(page.get_by_test_id("spin-result")).to_be_hidden()
    expect(page.get_by_test_id("balance")).to_have_text("20")
    assert Draw.objects.filter(user=member).count() == 2
    assert ledger.balance_for(user_id=member.pk).spendable == 20

    # The phone ships to the saved address (pre-selected).
    page.goto(f"/me/prizes/{second.pk}/address/")
    expect(page.get_by_test_id("saved-address")).to_have_count(1)
    expect(page.locator(f'input[name=address][value="{home.pk}"]')).to_be_checked()
    expect(page.get_by_test_id("new-address")).to_be_hidden()
    page.get_by_test_id("new-address-choice").check()
    expect(page.get_by_test_id("new-address")).to_be_visible()
    page.locator(f'input[name=address][value="{home.pk}"]').check()
    screenshot(page, "wheel-address-choice")
    page.get_by_test_id("address-submit").click()
    card = page.locator(f'[data-testid=prize][data-draw-id="{second.pk}"]')
    expect(card.get_by_test_id("prize-status")).to_have_text(capfirst(t("zh-hans", "ready to ship")))
    expect(card.get_by_test_id("prize-address")).to_contain_text("中关村大街1号")
    expect(page.locator(f'[data-testid=prize][data-draw-id="{draw.pk}"]').get_by_test_id("prize-code")).to_have_text(
        draw.code
    )
    screenshot(page, "wheel-my-prizes-zh")
