"""The main admin pages an operator uses, on a 1366x768 laptop, in both shipped languages: axe-core finds no
serious or critical accessibility violation, the page does not scroll sideways, and the browser console shows
no error and no Content-Security-Policy violation (the `page` fixture fails on those). A full-page screenshot of
each page is written to test-artifacts/screenshots/admin-<page>-<language>.png and axe's findings to
test-artifacts/axe/admin-<page>-<language>.json (README, "Tests and benchmarks").

The admin is Django's own, with static/css/admin.css (ADR 0006); axe-core is injected as an init script, so the
site's CSP stays on (see tests/e2e/test_accessibility.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize, expect

from accounts.models import User
from campaigns.builders import campaign_live, member_fund
from lottery.builders import wheel_build
from lottery.models import PrizeKind
from lottery.services import spin_perform
from mall.builders import product_build
from mall.orders import order_place
from partners.services import api_key_create
from referrals.builders import program_build
from referrals.models import Invite
from referrals.services import SignupContext, invite_attribute, invite_code_for, invite_qualify
from tests.e2e.test_accessibility import AXE, page_problems

pytestmark = pytest.mark.browser

LANGUAGES = ["zh-hans", "en"]
DESKTOP: ViewportSize = {"width": 1366, "height": 768}

# name -> path ({campaign}, {wheel}, {member} are ids of the data below)
# axe-core without its CSSOM preload: to read a stylesheet's @import (the admin's forms.css imports
# widgets.css) axe copies the sheet into a <style> element, which the site's CSP (style-src 'self') rightly
# blocks, so the test would report axe's own violation. The preload serves one rule (css-orientation-lock).
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"], preload: false});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target, summary: n.failureSummary})),
  }));
}"""

# The admin's own words (navigation, headings, labels, column titles, filters, buttons), without stored data
# (object names, the signed-in user's name, list rows), which may rightly be in either language.
ADMIN_CHROME_TEXT = """() => {
  const parts = [];
  const pick = "#site-name, #nav-sidebar caption, #nav-sidebar th, #content-main caption, #content-main th[scope=row],"
    + " #user-tools a, .breadcrumbs a, .submit-row, #changelist-filter h2, #changelist-filter h3,"
    + " #result_list thead, fieldset > h2, .form-row label, #content > h1, .object-tools";
  document.querySelectorAll(pick).forEach((el) => parts.push(el.innerText));
  return parts.join("\\n");
}"""

ADMIN_PAGES: dict[str, str] = {
    "index": "/admin/",
    "campaigns": "/admin/campaigns/campaign/",
    "campaign": "/admin/campaigns/campaign/{campaign}/change/",
    "wheel": "/admin/lottery/wheel/{wheel}/change/",
    "shipments": "/admin/shipments/shipment/",
    "transfers": "/admin/points/transfer/",
    "adjust": "/admin/points/account/adjust/",
    "partner-keys": "/admin/partners/apikey/",
    "users": "/admin/accounts/user/",
    "member": "/admin/accounts/user/{member}/change/",
    "products": "/admin/mall/product/",
    "product": "/admin/mall/product/{product}/change/",
    "code-pool": "/admin/mall/codepool/{pool}/change/",
    "orders": "/admin/mall/order/",
    "statements": "/admin/mall/supplierstatement/",
    "review-queue": "/admin/referrals/invitereview/",
    "invites": "/admin/referrals/invite/",
    "referral-program": "/admin/referrals/program/{program}/change/",
}


@pytest.fixture
def context(browser: Browser, live_server: Any) -> Iterator[BrowserContext]:
    """A laptop-sized browser profile (replaces the phone-sized one of tests/e2e/conftest.py) with axe-core."""
    ctx = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    ctx.set_default_timeout(10_000)
    ctx.add_init_script(path=str(AXE))
    yield ctx
    ctx.close()


@pytest.fixture
def admin_data(db: Any, make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A live campaign with a wheel of several prizes, a member who won a phone (a shipment in the queue) and
    spent points (transfers), and a partner key."""
    monkeypatch.setattr("outbox.services.publish", lambda **kwargs: None)  # no broker needed here
    now = timezone.now()
    member = make_user(display_name="小红")
    campaign = campaign_live(now=now, is_featured=True)
    wheel = wheel_build(
        campaign=campaign,
        cost_points=50,
        daily_cap=5,
        none_weight=1,
        prizes=[
            {"kind": PrizeKind.PHYSICAL, "name": "华为手机", "name_en": "Huawei phone", "weight": 10**9, "stock": 3},
            {"kind": PrizeKind.POINTS, "name": "100积分", "name_en": "100 points", "weight": 1, "stock": 50},
            {"kind": PrizeKind.POINTS, "name": "10积分", "name_en": "10 points", "weight": 5, "stock": 500},
        ],
    )
    member_fund(campaign=campaign, user_id=member.pk, points=300, now=now, key="admin-a11y-fund")
    spin_perform(wheel=wheel, user_id=member.pk, request_key="admin-a11y-spin", now=now)
    api_key_create(name="Shop POS", default_campaign=campaign)
    product = product_build(campaign=campaign, delivery="code", name="电影票", name_en="Movie ticket", points_price=50)
    order_place(product_id=product.pk, user_id=member.pk, now=now)
    program = program_build(campaign=campaign)
    friend = make_user(display_name="小李", date_joined=now)
    invite_attribute(
        invitee_id=friend.pk, code=invite_code_for(user_id=member.pk), context=SignupContext(ip="203.0.113.9"), now=now
    )
    Invite.objects.filter(invitee=friend).update(risk_reasons=["shared_device"])
    invite_qualify(invitee_id=friend.pk, action="checkin", now=now)  # flagged: into the review queue
    return {
        "campaign": campaign.pk,
        "wheel": wheel.pk,
        "member": member.pk,
        "product": product.pk,
        "pool": product.code_pool_id,
        "program": program.pk,
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(ADMIN_PAGES))
def test_admin_page_is_accessible_and_fits_a_laptop(
    *,
    page: Page,
    name: str,
    language: str,
    admin_data: dict[str, int],
    operator: tuple[User, Any],
    live_server: Any,
    login_as: Callable[[Page, User], None],
    screenshot: Callable[..., Any],
) -> None:
    user, _client = operator
    login_as(page, user)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    console_errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            console_errors.append(f"{msg.text} ({msg.location.get('url', '')})")

    page.on("console", on_console)
    response = page.goto(ADMIN_PAGES[name].format(**admin_data))
    assert response is not None
    assert response.status == 200, f"{name}: HTTP {response.status}"
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#site-name")).to_be_visible()  # the admin's header, i.e. not the login page
    screenshot(page, f"screenshots/admin-{name}-{language}")

    problems = page_problems(
        page, artifact=f"admin-{name}-{language}", language=language, axe_run=AXE_RUN, text_js=ADMIN_CHROME_TEXT
    )
    page.remove_listener("console", on_console)
    if console_errors:
        problems.append(f"console errors: {console_errors}")
    assert not problems, f"admin {name} ({language}):\n" + "\n".join(problems)
