"""The partner portal in the browser: a partner signs in, sees this month's band progress on the dashboard, opens the
statements list and downloads a statement as CSV (its content checked); every partner page fits a 360 px phone in
both languages and passes axe-core (the same checks as tests/e2e/test_phone_layout.py and test_accessibility.py,
for a partner user instead of a plain member)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from partners.builders import tiers_build
from partners.tiers import partner_tier_set
from tests.e2e.test_accessibility import axe_context, page_check  # noqa: F401 — axe_context is a fixture
from tests.e2e.test_phone_layout import fits
from tests.partners.portal_world import PartnerLogin, partner_with_login, sell, statement_for_month, this_month_start

pytestmark = pytest.mark.browser

# name -> path ({period}: a month with a statement, {code}: the partner's recruiting code)
PARTNER_PAGES: dict[str, str] = {
    "partner-dashboard": "/partner/",
    "partner-statements": "/partner/statements/",
    "partner-statement": "/partner/statements/{period}/",
}
PARTNER_VISITOR_PAGES: dict[str, str] = {
    "partner-join": "/partner/join/{code}/",
    "partner-join-unknown": "/partner/join/7K3M9P2Q/",
    "partner-applied": "/partner/applied/",
}
LANGUAGES = ["zh-hans", "en"]


# The partner's own data, typed in the page's language (like a member's in test_accessibility.py).
NAMES = {
    "zh-hans": ("上海浦东新区好运来家用电器销售有限公司（第一分公司）", "杭州新伙伴商贸有限公司"),
    "en": ("Good Fortune Home Appliances Sales Co., Ltd. (Pudong First Branch)", "Hangzhou New Partner Trading Co."),
}


@pytest.fixture
def partner(db: Any, request: pytest.FixtureRequest) -> PartnerLogin:
    """A dealer with a long company name, 30,000.00 of sales this month, two statements (February 2026 carried into
    March's), a recruit who sold, and an upgrade to announce."""
    callspec = getattr(request.node, "callspec", None)
    company, recruit_company = NAMES[callspec.params.get("language", "zh-hans") if callspec else "zh-hans"]
    login = partner_with_login("E2E-DEALER", company=company)
    recruit = partner_with_login("E2E-RECRUIT", referred_by=login.partner, company=recruit_company)
    statement_for_month(login.partner, "2026-02", ["30000.00", "30000.00"])
    statement_for_month(login.partner, "2026-03", ["1234.56"])
    sell(login.partner, "30000.00", sold_at=this_month_start())
    sell(recruit.partner, "100.00", sold_at=this_month_start())
    gold = tiers_build()[1]
    partner_tier_set(partner=login.partner, tier=gold, actor_id=None, reason="e2e")
    sell(login.partner, "0.01", sold_at=this_month_start())  # now on Gold's bands: 3 % / 4.5 % / 6 %
    return login


def _url(path: str, partner: PartnerLogin) -> str:
    return path.format(period="2026-02", code=partner.partner.referral_code)


def test_a_partner_sees_band_progress_and_downloads_a_statement(
    *,
    page: Page,
    partner: PartnerLogin,
    login: Callable[..., None],
    switch_language: Callable[[Page, str], None],
    screenshot: Callable[..., Any],
    tmp_path: Path,
) -> None:
    login(page, str(partner.user.phone))
    page.goto("/accounts/profile/")
    switch_language(page, "en")
    page.get_by_test_id("profile-partner-link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Partner portal")
    expect(page.get_by_test_id("month-net")).to_have_text("¥30,000.01")
    expect(page.get_by_test_id("band-current")).to_have_text("Current band: 3 %")
    expect(page.get_by_test_id("band-next")).to_have_text("¥19,999.99 more reaches 4.5 %.")
    expect(page.get_by_test_id("band-progress")).to_have_attribute("value", "60")
    expect(page.get_by_test_id("estimated-rebate")).to_have_text("¥900.00")
    expect(page.get_by_test_id("tier-name")).to_have_text("Gold")
    expect(page.get_by_test_id("recruit")).to_have_count(1)
    link = page.get_by_test_id("recruit-link")
    expect(link).to_have_value(f"{page.url.split('/partner/')[0]}/partner/join/{partner.partner.referral_code}/")
    screenshot(page, "partner-dashboard-en")

    # The upgrade is announced until dismissed.
    expect(page.get_by_test_id("tier-change")).to_contain_text("Congratulations: you moved up from Silver to Gold.")
    page.get_by_test_id("tier-change-dismiss").click()
    expect(page.get_by_test_id("tier-change-banner")).to_have_count(0)

    page.get_by_test_id("partner-nav-statements").click()
    rows = page.get_by_test_id("statement-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-period", "2026-03")
    expect(rows.nth(1).get_by_test_id("statement-status")).to_have_text("Carried into a later statement")

    with page.expect_download() as info:
        page.get_by_test_id("statement-csv-2026-02").click()
    download = info.value
    assert download.suggested_filename == "statement-E2E-DEALER-2026-02.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM: Excel reads the Chinese company name
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == ["Partner", "上海浦东新区好运来家用电器销售有限公司（第一分公司）", "E2E-DEALER"]
    assert ["Net sales (CNY)", "60000.00"] in table
    assert ["50000.00", "200000.00", "3.50", "10000.00", "350.00"] in table
    assert ["Closing payable (CNY)", "1350.00"] in table

    # The statement page: printable, with its figures.
    rows.nth(1).get_by_test_id("statement-link").click()
    expect(page.get_by_test_id("statement-closing")).to_have_text("¥1,350.00")
    expect(page.get_by_test_id("statement-print")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.get_by_test_id("statement-print")).to_be_hidden()
    expect(page.get_by_test_id("statement-closing")).to_be_visible()
    page.emulate_media(media="screen")


@pytest.mark.parametrize("size", [(360, 740), (390, 844)], ids=["360", "390"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_partner_page_fits_the_phone(
    *,
    page: Page,
    language: str,
    size: tuple[int, int],
    partner: PartnerLogin,
    live_server: Any,
    login_as: Callable[[Page, Any], None],
    screenshot: Callable[..., Any],
) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    for name, path in PARTNER_VISITOR_PAGES.items():
        page.goto(_url(path, partner))
        fits(page, f"{name} ({language}, {size[0]}px)")
    login_as(page, partner.user)
    for name, path in PARTNER_PAGES.items():
        page.goto(_url(path, partner))
        expect(page.locator("html")).to_have_attribute("lang", language)
        fits(page, f"{name} ({language}, {size[0]}px)")
        if size[0] == 360:
            screenshot(page, f"phone-{name}-{language}-360")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(PARTNER_PAGES))
def test_partner_page_is_accessible_and_in_one_language(
    *,
    axe_context: Any,  # noqa: F811 — the fixture imported above
    page: Page,
    name: str,
    language: str,
    partner: PartnerLogin,
    live_server: Any,
    login_as: Callable[[Page, Any], None],
    screenshot: Callable[..., Any],
) -> None:
    login_as(page, partner.user)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page_check(page, url=_url(PARTNER_PAGES[name], partner), name=name, language=language, screenshot=screenshot)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(PARTNER_VISITOR_PAGES))
def test_partner_visitor_page_is_accessible_and_in_one_language(
    *,
    axe_context: Any,  # noqa: F811
    page: Page,
    name: str,
    language: str,
    partner: PartnerLogin,
    live_server: Any,
    screenshot: Callable[..., Any],
) -> None:
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page_check(
        page, url=_url(PARTNER_VISITOR_PAGES[name], partner), name=name, language=language, screenshot=screenshot
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_application_form_with_errors_is_accessible(
    *,
    axe_context: Any,  # noqa: F811
    page: Page,
    language: str,
    partner: PartnerLogin,
    live_server: Any,
    screenshot: Callable[..., Any],
) -> None:
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])

    def submit_empty(p: Page) -> None:
        p.get_by_test_id("join-submit").click()
        expect(p.locator(".field.has-error").first).to_be_visible()

    page_check(
        page,
        url=_url("/partner/join/{code}/", partner),
        name="partner-join-errors",
        language=language,
        screenshot=screenshot,
        then=submit_empty,
    )
