"""The printable supplier statement on a phone, in both languages: it fits the screen (the lines table scrolls in
its own box), the Print button opens the print dialogue under the Content-Security-Policy, and on paper the admin's
header, breadcrumbs and buttons are gone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from accounts.models import User
from accounts.services import staff_groups_sync
from mall.builders import supplier_build
from mall.models import SupplierStatement

pytestmark = pytest.mark.browser

LINE = {
    "source": "mall", "item_id": 1, "item": "超长名称的电影票兑换券（全国影院通用，含 IMAX 与杜比影厅）",
    "item_en": "Movie ticket voucher with a very long name (every cinema, IMAX and Dolby halls included)",
    "unit_cost_cny": "12345.67", "delivered": 1234, "returned": 5, "units": 1229, "amount_cny": "15172828.43",
}  # fmt: skip


@pytest.fixture
def statement(db: Any) -> SupplierStatement:
    supplier = supplier_build(name="北京某某文化传媒有限公司", name_en="Beijing Culture Media Co., Ltd.")
    return SupplierStatement.objects.create(
        supplier=supplier, period_start=date(2026, 3, 1), period_end=date(2026, 3, 31), units=1229,
        amount_cny=Decimal("15172828.43"), lines=[LINE] * 3,
        generated_at=datetime(2026, 4, 1, 2, tzinfo=ZoneInfo("UTC")),
    )  # fmt: skip


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_printable_statement_fits_a_phone_and_prints_clean(
    *,
    page: Page,
    live_server: Any,
    language: str,
    statement: SupplierStatement,
    make_user: Callable[..., User],
    login_as: Callable[[Page, User], None],
) -> None:
    staff_groups_sync()
    finance = make_user(is_staff=True)
    finance.groups.add(Group.objects.get(name="finance"))
    login_as(page, finance)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page.add_init_script("window.print = () => { window.__printed = true; };")
    page.goto(f"{live_server.url}/admin/mall/supplierstatement/{statement.pk}/print/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_test_id("statement-amount")).to_have_text("15172828.43")

    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"the page is {width}px wide on a {inner}px screen"

    page.locator("[data-print]").click()
    assert page.evaluate("window.__printed === true")

    page.emulate_media(media="print")
    expect(page.locator("#header")).to_be_hidden()
    expect(page.locator(".breadcrumbs")).to_be_hidden()
    expect(page.locator("[data-print]")).to_be_hidden()
    expect(page.get_by_test_id("statement")).to_be_visible()
