"""The mall's operator side in a browser, on a laptop, in both languages: an operator imports a supplier's code file
into a pool and reads the row report (good codes added once, a repeated row and a malformed one listed; the same
file again adds nothing), and ships a member's goods by hand from the one shipments queue, after which the order is
fulfilled and the member's held points are captured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone, translation
from django.utils.text import capfirst
from playwright.sync_api import FilePayload, Page, ViewportSize, expect

from accounts.models import User
from accounts.services import address_save
from campaigns.builders import campaign_live, member_fund
from mall.builders import pool_build, product_build, supplier_build
from mall.models import Code, OrderStatus
from mall.orders import ORDER_SHIPMENT, order_place
from points.models import Hold
from points.selectors import balance_for
from shipments.models import Shipment
from shipments.rules import ShipmentStatus

pytestmark = pytest.mark.browser

DESKTOP: ViewportSize = {"width": 1366, "height": 768}
LANGUAGES = ["zh-hans", "en"]

# A supplier's file: a header, three good codes, one repeated within the file (row 5), one malformed (row 6).
CODE_FILE = "code\nJD50-7KQ2M\nJD50-9XW4P\nJD50-3HT8R\nJD50-9XW4P\nnot a code!\n"


def t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def tn(language: str, singular: str, plural: str, n: int) -> str:
    with translation.override(language):
        return translation.ngettext(singular, plural, n) % {"count": n}


def admin_in(page: Page, live_server: Any, login_as: Callable[[Page, User], None], user: User, language: str) -> None:
    page.set_viewport_size(DESKTOP)
    login_as(page, user)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])


def upload(page: Page) -> None:
    """On a pool's import page: choose the code file (from memory) and import it."""
    file: FilePayload = {"name": "codes.csv", "mimeType": "text/csv", "buffer": CODE_FILE.encode()}
    page.locator("input[name=file]").set_input_files(file)
    page.locator("#content form input[type=submit]").click()


def expect_counts(page: Page, language: str, counts: dict[str, int]) -> None:
    summary = page.get_by_test_id("import-report").locator("p").first
    for label, count in counts.items():
        expect(summary).to_contain_text(f"{capfirst(t(language, label))}: {count}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_operator_imports_a_code_file_with_a_row_report(
    *,
    page: Page,
    live_server: Any,
    language: str,
    operator: tuple[User, Any],
    login_as: Callable[[Page, User], None],
    screenshot: Callable[..., Any],
) -> None:
    pool = pool_build(name="京东E卡 50 元", supplier=supplier_build())
    user, _client = operator
    admin_in(page, live_server, login_as, user, language)

    page.goto(f"{live_server.url}/admin/mall/codepool/{pool.pk}/change/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator(".field-codes_free .readonly")).to_have_text("0")
    page.get_by_test_id("import-codes").click()
    upload(page)

    expect(page.locator("ul.messagelist")).to_contain_text(
        tn(language, "%(count)d code added.", "%(count)d codes added.", 3)
    )
    report = page.get_by_test_id("import-report")
    expect_counts(page, language, {"added": 3, "duplicate in file": 1, "already in pool": 0, "invalid": 1})
    rows = report.locator("tbody tr")
    expect(rows).to_have_count(5)  # one row per code row of the file
    expect(rows.nth(0)).to_contain_text(t(language, "added"))
    expect(rows.filter(has_text=t(language, "added"))).to_have_count(3)
    expect(rows.nth(3)).to_contain_text("5")  # the file's line
    expect(rows.nth(3)).to_contain_text("JD50-9XW4P")
    expect(rows.nth(3)).to_contain_text(t(language, "duplicate in file"))
    expect(rows.nth(4)).to_contain_text("not a code!")
    expect(rows.nth(4)).to_contain_text(t(language, "invalid"))
    screenshot(page, f"admin-code-import-{language}")
    assert sorted(Code.objects.filter(pool=pool, assigned_to__isnull=True).values_list("code", flat=True)) == [
        "JD50-3HT8R",
        "JD50-7KQ2M",
        "JD50-9XW4P",
    ]

    page.goto(f"{live_server.url}/admin/mall/codepool/{pool.pk}/change/")
    expect(page.locator(".field-codes_free .readonly")).to_have_text("3")
    expect(page.locator(".field-codes_total .readonly")).to_have_text("3")

    page.get_by_test_id("import-codes").click()  # the same file again: nothing new
    upload(page)
    expect(page.locator("ul.messagelist")).to_contain_text(
        tn(language, "%(count)d code added.", "%(count)d codes added.", 0)
    )
    expect_counts(page, language, {"added": 0, "duplicate in file": 1, "already in pool": 3, "invalid": 1})
    rows = page.get_by_test_id("import-report").locator("tbody tr")
    expect(rows.filter(has_text=t(language, "already in pool"))).to_have_count(3)
    screenshot(page, f"admin-code-import-again-{language}")
    assert Code.objects.filter(pool=pool).count() == 3

    page.goto(f"{live_server.url}/admin/mall/codepool/{pool.pk}/change/")
    expect(page.locator(".field-codes_free .readonly")).to_have_text("3")


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_operator_ships_a_members_goods_from_the_queue(
    *,
    page: Page,
    live_server: Any,
    language: str,
    make_user: Callable[..., User],
    operator: tuple[User, Any],
    login_as: Callable[[Page, User], None],
    screenshot: Callable[..., Any],
) -> None:
    now = timezone.now()
    campaign = campaign_live(now=now, is_featured=True)
    member = make_user(display_name="小红")
    member_fund(campaign=campaign, user_id=member.pk, points=500, now=now, key="mall-admin-ship-fund")
    speaker = product_build(
        campaign=campaign, delivery="physical", name="蓝牙音箱", name_en="Bluetooth speaker", points_price=300
    )
    home = address_save(
        user=member,
        data={
            "recipient": "张三",
            "phone": "13800138000",
            "province": "上海市",
            "city": "上海市",
            "district": "浦东新区",
            "detail": "世纪大道 1 号",
            "postal_code": "200120",
        },
    )
    order = order_place(product_id=speaker.pk, user_id=member.pk, address_id=home.pk, now=now).order
    assert order.status == OrderStatus.PLACED
    hold_id = order.hold_id
    assert hold_id is not None
    assert Hold.objects.get(pk=hold_id).state == Hold.State.PENDING
    assert balance_for(user_id=member.pk).spendable == 200  # 300 held
    shipment = Shipment.objects.get(owner_kind=ORDER_SHIPMENT, owner_id=order.pk)
    assert order.shipment_id == shipment.pk
    carrier, tracking = ("顺丰速运", "SF1234567890") if language == "zh-hans" else ("SF Express", "SF1234567890")

    user, _client = operator
    admin_in(page, live_server, login_as, user, language)
    page.goto(f"{live_server.url}/admin/")
    with translation.override(language):
        shipments_link = capfirst(str(Shipment._meta.verbose_name_plural))
    page.locator("#content-main tr.model-shipment").get_by_role("link", name=shipments_link, exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)  # the queue: what is ready to ship
    expect(rows).to_contain_text("蓝牙音箱")
    expect(rows).to_contain_text("张三")
    expect(rows).to_contain_text(t(language, "ready to ship"))
    screenshot(page, f"admin-shipments-queue-{language}")

    rows.get_by_role("link", name=str(shipment.pk), exact=True).click()
    page.get_by_test_id("ship").click()
    expect(page.locator("#content")).to_contain_text("世纪大道 1 号")
    page.locator("input[name=carrier]").fill(carrier)
    page.locator("input[name=tracking_number]").fill(tracking)
    screenshot(page, f"admin-shipment-ship-{language}")
    page.locator("#content form input[type=submit]").click()

    with translation.override(language):
        shipped_message = translation.gettext("Shipment #%(id)s marked shipped.") % {"id": shipment.pk}
    expect(page.locator("ul.messagelist")).to_contain_text(shipped_message)
    expect(page.locator("#content-main")).to_contain_text(tracking)
    expect(page.locator("#content-main")).to_contain_text(carrier)
    expect(page.get_by_test_id("next-statuses")).to_contain_text(t(language, "delivered"))

    page.goto(f"{live_server.url}/admin/shipments/shipment/")  # shipped: no longer in the queue
    expect(page.locator("#result_list tbody tr")).to_have_count(0)

    page.goto(f"{live_server.url}/admin/mall/order/")
    row = page.locator("#result_list tbody tr").filter(has=page.get_by_role("link", name=str(order.pk), exact=True))
    expect(row).to_have_count(1)
    expect(row.locator("td.field-status")).to_have_text(t(language, "fulfilled"))
    screenshot(page, f"admin-orders-fulfilled-{language}")

    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert order.fulfilled_at is not None
    assert Hold.objects.get(pk=hold_id).state == Hold.State.CAPTURED
    shipment.refresh_from_db()
    assert (shipment.status, shipment.carrier, shipment.tracking_number) == (ShipmentStatus.SHIPPED, carrier, tracking)
    assert balance_for(user_id=member.pk).spendable == 200  # captured: spent, not returned
