"""Every member page, on a 390x844 phone, in both shipped languages: axe-core finds no serious or critical
accessibility violation (WCAG 2.2 AA and axe's best practices), the page does not scroll sideways, the browser
console shows no error, and no text of the other language shows outside the language switch. A full-page
screenshot of each page is written to test-artifacts/screenshots/<page>-<language>.png and axe's findings to
test-artifacts/axe/<page>-<language>.json, so a reviewer can look at them (README, "Tests and benchmarks").

The member's own data (display name, address) is created in the page's language, as a real member would type
it; everything else on the page comes from the product (translations, the `_en` fields of stored texts).

axe-core is vendored (tests/e2e/vendor/axe.min.js, MPL-2.0; no network needed). It is given to the page as an
init script (`BrowserContext.add_init_script`), which the browser runs before the page's own scripts and outside
the page's Content-Security-Policy: `add_script_tag` would insert an inline <script>, which the site's CSP
(script-src 'self') rightly blocks. So the CSP stays on during the test (a violation still fails it, see the
`page` fixture) and nothing is loosened for the site.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Page, expect

from accounts.models import User
from accounts.services import address_save
from campaigns.builders import campaign_live, member_fund
from campaigns.models import Campaign
from levels.builders import ladder_build
from levels.services import member_level_evaluate
from lottery.builders import wheel_build
from lottery.models import Draw, PrizeKind
from lottery.services import spin_perform
from mall.builders import category_build, product_build
from mall.models import Order
from mall.orders import order_place
from referrals.builders import program_build
from referrals.models import InviteCode
from referrals.services import invite_attribute
from tasks.checkins import checkin_create, checkin_rule_save
from tasks.engine import task_definition_save
from tasks.models import CheckInRule, TaskDefinition
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
LANGUAGES = ["zh-hans", "en"]
BLOCKING = {"serious", "critical"}

# name -> path ({slug} is the campaign, {draw} the member's won physical prize, {product} a mall product, {order} the
# member's code order, {pickup} their order to pick up in store, {goods} their goods waiting for an address)
MEMBER_PAGES: dict[str, str] = {
    "home": "/",
    "campaigns": "/c/",
    "campaign": "/c/{slug}/",
    "rules": "/c/{slug}/rules/",
    "wheel": "/c/{slug}/wheel/",
    "fairness": "/c/{slug}/wheel/fairness/",
    "checkin": "/c/{slug}/checkin/",
    "tasks": "/c/{slug}/tasks/",
    "my-points": "/points/",
    "my-prizes": "/me/prizes/",
    "prize-address": "/me/prizes/{draw}/address/",
    "profile": "/accounts/profile/",
    "addresses": "/accounts/addresses/",
    "address-new": "/accounts/addresses/new/",
    "mall": "/mall/",
    "mall-product": "/mall/p/{product}/",
    "mall-redeem": "/mall/p/{product}/redeem/",
    "mall-order": "/mall/orders/{order}/",
    "mall-pickup": "/mall/orders/{pickup}/",
    "mall-address": "/mall/orders/{goods}/address/",
    "my-redemptions": "/me/redemptions/",
    "invite": "/me/invite/",
    "leaderboard": "/c/{slug}/leaderboard/",
    "my-level": "/me/level/",
}
VISITOR_PAGES: dict[str, str] = {"login": "/accounts/login/", "register": "/accounts/register/"}

# The member's own data, typed in the page's language.
MEMBER_DATA: dict[str, dict[str, Any]] = {
    "zh-hans": {
        "display_name": "小红",
        "friend": "李明",
        "address": {"recipient": "王小红", "phone": "13900001111", "province": "上海市", "city": "上海市",
                    "district": "浦东新区", "detail": "世纪大道100号", "postal_code": "200120"},
    },
    "en": {
        "display_name": "Xiao Hong",
        "friend": "Li Ming",
        "address": {"recipient": "Wang Xiaohong", "phone": "13900001111", "province": "Shanghai",
                    "city": "Shanghai", "district": "Pudong", "detail": "100 Century Avenue", "postal_code": "200120"},
    },
}  # fmt: skip

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff5e]+")
# On a Chinese page, Latin letters are fine in codes, hashes, numbers with units, e-mail addresses and these
# proper names; an English word of four letters or more anywhere else is untranslated text.
LATIN_WORD = re.compile(r"(?<![\w@.-])[A-Za-z]{4,}(?![\w@.-])")
LATIN_ALLOWED = {"HMAC", "Python"}

# Collects the page's visible text outside the language switch (which names both languages on purpose).
VISIBLE_TEXT = """() => {
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll(".lang-switch, script, style, template").forEach((el) => el.remove());
  document.body.appendChild(clone);
  clone.hidden = false;
  const text = clone.innerText;
  clone.remove();
  return text + "\\n" + document.title;
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target, summary: n.failureSummary})),
  }));
}"""


def other_language_text(text: str, language: str) -> list[str]:
    if language == "en":
        return sorted(set(CJK.findall(text)))
    text = re.sub(r"\S+@\S+", " ", text)  # e-mail addresses
    return sorted({w for w in LATIN_WORD.findall(text) if w not in LATIN_ALLOWED})


@pytest.fixture
def member(db: Any, make_user: Callable[..., User], language: str, monkeypatch: pytest.MonkeyPatch) -> User:
    """A member with a bit of everything: points, a check-in, task progress, a locked task, a won phone waiting
    for its address, an address book entry."""
    monkeypatch.setattr("outbox.services.publish", lambda **kwargs: None)  # no broker needed here
    now = timezone.now()
    data = MEMBER_DATA[language]
    user = make_user(display_name=data["display_name"], language=language)
    address_save(user=user, data=data["address"])
    campaign = campaign_live(now=now, is_featured=True, expiry_rule="year_end")
    checkin_rule_save(rule=CheckInRule(campaign=campaign, base_points=5, milestones=[{"day": 3, "points": 10}]))
    checkin = task_definition_save(
        task=TaskDefinition(campaign=campaign, tier="beginner", title="签到两次", title_en="Check in twice",
                            event_type="checkin", target_count=2, reward_points=20, auto_reward=False)
    )  # fmt: skip
    task_definition_save(
        task=TaskDefinition(campaign=campaign, tier="advanced", title="大额消费", title_en="Big spender",
                            event_type="purchase", min_amount=500, reward_points=200, prerequisite=checkin)
    )  # fmt: skip
    wheel = wheel_build(
        campaign=campaign,
        cost_points=50,
        daily_cap=5,
        none_weight=1,
        prizes=[
            {"kind": PrizeKind.PHYSICAL, "name": "华为手机", "name_en": "Huawei phone", "weight": 10**9, "stock": 3},
            {"kind": PrizeKind.POINTS, "name": "100积分", "name_en": "100 points", "weight": 1, "stock": 50},
        ],
    )
    member_fund(campaign=campaign, user_id=user.pk, points=300, now=now, key="a11y-fund")
    checkin_create(campaign=campaign, user_id=user.pk, now=now)
    spin_perform(wheel=wheel, user_id=user.pk, request_key="a11y-spin", now=now)
    # The mall: a code, goods to pick up (a pickup code with digits, so it reads as a code in any language) and goods
    # waiting for a shipping address.
    category = category_build(slug="movies", name="电影票", name_en="Movie tickets")
    ticket = product_build(
        campaign=campaign, delivery="code", category=category, name="电影兑换券", name_en="Movie voucher",
        points_price=20, instructions="在影城 App 输入兑换码。", instructions_en="Enter the code in the cinema app.",
    )  # fmt: skip
    bottle = product_build(
        campaign=campaign, delivery="physical", physical_methods="both", name="运动水杯", name_en="Sports bottle",
        points_price=20, pickup_location="南京东路 1 号门店", pickup_location_en="Store at 1 East Nanjing Road",
    )  # fmt: skip
    order_place(product_id=ticket.pk, user_id=user.pk, request_key="a11y-code", now=now)
    pickup = order_place(product_id=bottle.pk, user_id=user.pk, request_key="a11y-pickup", method="pickup", now=now)
    Order.objects.filter(pk=pickup.order.pk).update(pickup_code="7K3M9P2Q4R")
    order_place(product_id=bottle.pk, user_id=user.pk, request_key="a11y-goods", method="shipping", now=now)
    # Invites: a friend who joined through the member's link and checked in (qualified). The code has digits, so it
    # reads as a code in any language.
    program_build(campaign=campaign)
    InviteCode.objects.create(user=user, code="7K3M9P2Q4R")
    friend = make_user(display_name=data["friend"], language=language)
    invite_attribute(invitee_id=friend.pk, code="7K3M9P2Q4R", now=now)
    checkin_create(campaign=campaign, user_id=friend.pk, now=now)
    # Member levels: the demo ladder (Bronze → Platinum), the member evaluated on it (progress bars, benefits).
    ladder_build(campaign=campaign)
    member_level_evaluate(user_id=user.pk, now=now)
    return user


def page_problems(page: Page, *, artifact: str, language: str, axe_run: str, text_js: str) -> list[str]:
    """What a person would be hurt by on the open page: axe-core serious/critical violations (written to
    test-artifacts/axe/<artifact>.json), sideways scrolling, and text of the other language among what `text_js`
    returns. Shared by the member and the admin checks."""
    violations = page.evaluate(axe_run)
    (ARTIFACTS / "axe").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "axe" / f"{artifact}.json").write_text(
        json.dumps(violations, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    blocking = [
        f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']} — e.g. {v['nodes'][0]['target']}"
        for v in violations
        if v["impact"] in BLOCKING
    ]
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    width = page.evaluate("() => window.innerWidth")
    foreign = other_language_text(page.evaluate(text_js), language)
    problems = []
    if blocking:
        problems.append("axe-core serious/critical violations:\n  " + "\n  ".join(blocking))
    if overflow > 0:
        problems.append(f"the page is {overflow}px wider than the {width}px screen (scrolls sideways)")
    if foreign:
        problems.append(f"text of the other language: {foreign}")
    return problems


def page_check(
    page: Page,
    *,
    url: str,
    name: str,
    language: str,
    screenshot: Callable[..., Any],
    then: Callable[[Page], None] | None = None,
) -> None:
    """Open `url` (and do `then` on it, e.g. submit a form) and check the page the member ends on."""
    console_errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            console_errors.append(f"{msg.text} ({msg.location.get('url', '')})")

    page.on("console", on_console)
    page.goto(url)
    if then is not None:
        then(page)
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", language)
    screenshot(page, f"screenshots/{name}-{language}")

    problems = page_problems(
        page, artifact=f"{name}-{language}", language=language, axe_run=AXE_RUN, text_js=VISIBLE_TEXT
    )
    page.remove_listener("console", on_console)
    if console_errors:
        problems.append(f"console errors: {console_errors}")
    assert not problems, f"{name} ({language}):\n" + "\n".join(problems)


@pytest.fixture
def axe_context(context: Any) -> Any:
    context.add_init_script(path=str(AXE))
    return context


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(MEMBER_PAGES))
def test_member_page_is_accessible_and_in_one_language(
    *,
    axe_context: Any,
    page: Page,
    name: str,
    language: str,
    member: User,
    live_server: Any,
    login_as: Callable[[Page, User], None],
    screenshot: Callable[..., Any],
) -> None:
    campaign = Campaign.objects.get(slug="carnival")
    draw = Draw.objects.get(user=member, prize__kind=PrizeKind.PHYSICAL)
    orders = {order.request_key.removeprefix("a11y-"): order for order in Order.objects.filter(user=member)}
    login_as(page, member)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    url = MEMBER_PAGES[name].format(
        slug=campaign.slug,
        draw=draw.pk,
        product=orders["code"].product_id,
        order=orders["code"].pk,
        pickup=orders["pickup"].pk,
        goods=orders["goods"].pk,
    )
    page_check(page, url=url, name=name, language=language, screenshot=screenshot)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(VISITOR_PAGES))
def test_visitor_page_is_accessible_and_in_one_language(
    *, axe_context: Any, page: Page, name: str, language: str, live_server: Any, screenshot: Callable[..., Any]
) -> None:
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page_check(page, url=VISITOR_PAGES[name], name=name, language=language, screenshot=screenshot)


def profile_saved(page: Page) -> None:
    page.get_by_test_id("profile-save").click()
    expect(page.locator(".messages .msg-success")).to_be_visible()
    # The live region is a wrapper: the list keeps its list role (a role on <ul> would replace it).
    expect(page.locator("[role=status] > ul.messages")).to_have_count(1)
    expect(page.locator("ul.messages")).not_to_have_attribute("role", re.compile(".*"))


def wheel_spun(page: Page) -> None:
    """Spin and wait for the result dialog: the turned disc and the dialog are what a winner looks at."""
    page.get_by_test_id("spin-button").click()
    expect(page.get_by_test_id("spin-result")).to_be_visible(timeout=20_000)


@pytest.mark.parametrize("language", LANGUAGES)
def test_wheel_after_a_spin_is_accessible_and_fits_the_phone(
    *,
    axe_context: Any,
    page: Page,
    language: str,
    member: User,
    live_server: Any,
    login_as: Callable[[Page, User], None],
    screenshot: Callable[..., Any],
) -> None:
    login_as(page, member)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page_check(
        page, url="/c/carnival/wheel/", name="wheel-spun", language=language, screenshot=screenshot, then=wheel_spun
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_confirmation_message_is_announced_and_accessible(
    *,
    axe_context: Any,
    page: Page,
    language: str,
    member: User,
    live_server: Any,
    login_as: Callable[[Page, User], None],
    screenshot: Callable[..., Any],
) -> None:
    login_as(page, member)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page_check(
        page, url="/accounts/profile/", name="profile-saved", language=language, screenshot=screenshot,
        then=profile_saved,
    )  # fmt: skip


FOCUS_RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {tag: el.tagName + (el.className ? "." + el.className : ""), outline: style.outlineStyle,
          width: parseFloat(style.outlineWidth) || 0};
}"""


@pytest.mark.parametrize("language", ["en"])
def test_keyboard_focus_is_always_visible(
    *, page: Page, language: str, member: User, login_as: Callable[[Page, User], None]
) -> None:
    """WCAG 2.4.7/2.4.11: every control reached with Tab on a signed-in page shows a focus ring of 2px or more."""
    login_as(page, member)
    page.goto("/c/carnival/tasks/")
    seen = []
    for _ in range(30):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring["tag"] == "BODY":  # past the last control
            break
        seen.append(ring)
    hidden = [r for r in seen if r["outline"] == "none" or r["width"] < 2]
    assert not hidden, f"focus not visible on {hidden}"
    assert len(seen) >= 5, f"Tab did not move through the page's controls: {seen}"


def code_revealed(page: Page) -> None:
    page.get_by_test_id("reveal-button").click()
    expect(page.get_by_test_id("order-code")).to_be_visible()


@pytest.mark.parametrize("language", LANGUAGES)
def test_revealed_mall_code_is_accessible(
    *,
    axe_context: Any,
    page: Page,
    language: str,
    member: User,
    live_server: Any,
    login_as: Callable[[Page, User], None],
    screenshot: Callable[..., Any],
) -> None:
    order = Order.objects.get(user=member, request_key="a11y-code")
    login_as(page, member)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page_check(
        page, url=f"/mall/orders/{order.pk}/", name="mall-code-revealed", language=language, screenshot=screenshot,
        then=code_revealed,
    )  # fmt: skip


def pickup_verified(page: Page) -> None:
    page.get_by_test_id("pickup-form").locator("input[name=code]").fill("7K3M9P2Q4R")
    page.get_by_test_id("pickup-submit").click()
    expect(page.get_by_test_id("pickup-verified")).to_be_visible()


@pytest.mark.parametrize("verified", [False, True], ids=["form", "verified"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_staff_pickup_page_is_accessible(
    *,
    axe_context: Any,
    page: Page,
    language: str,
    verified: bool,
    member: User,
    staff: Callable[[str], tuple[User, Any]],
    live_server: Any,
    login_as: Callable[[Page, User], None],
    screenshot: Callable[..., Any],
) -> None:
    """The store staff's phone page: the form, and a verified pickup (the item and the member, masked)."""
    operator, _client = staff("operator")
    login_as(page, operator)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    name = "staff-pickup-verified" if verified else "staff-pickup"
    then = pickup_verified if verified else None
    page_check(page, url="/staff/pickup/", name=name, language=language, screenshot=screenshot, then=then)
