"""Invite friends in a 360-px phone browser, in both languages: member A copies their invite link (and gets the
poster, by download where the phone has no share sheet, as a file through the share sheet where it has one); B opens
the link on another phone, signs up and checks in; A's invite page then shows B qualified and the points earned.
The campaign is built around the real current time."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from django.utils import timezone, translation
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from campaigns.builders import campaign_live
from campaigns.models import Campaign
from outbox.models import Entry, EntryStatus
from referrals.builders import program_build
from referrals.jobs import leaderboard_sync
from referrals.models import Invite, InviteStatus
from referrals.services import invite_code_for
from tasks.checkins import checkin_rule_save
from tasks.models import CheckInRule
from tests.e2e.conftest import CSP_LISTENER, MOBILE_VIEWPORT, csp_violations

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
PASSWORD = "Blossom-2026!"
# A phone whose browser has a share sheet that can share files (Android Chrome): records what was shared.
SHARE_SHEET = """window.__shared = [];
navigator.canShare = (data) => !!(data && data.files && data.files.length);
navigator.share = (data) => { window.__shared.push({title: data.title, text: data.text, url: data.url || null,
  files: (data.files || []).map((f) => ({name: f.name, type: f.type, size: f.size}))}); return Promise.resolve(); };"""


def t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def fits(page: Page, where: str) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{where}: the page is {width}px wide on a {inner}px screen"


@pytest.fixture
def campaign(db: Any) -> Campaign:
    campaign = campaign_live(now=timezone.now(), is_featured=True, theme="邀好友，赚积分", theme_en="Invite, earn")
    checkin_rule_save(rule=CheckInRule(campaign=campaign, base_points=5))
    program_build(campaign=campaign, inviter_points=200, invitee_points=100, qualifying_action="checkin")
    return campaign


@pytest.fixture
def second_phone(browser: Browser, live_server: Any) -> Iterator[Page]:
    """Friend B's phone: its own browser profile (no cookie of A's), checked for script errors and CSP like `page`."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=MOBILE_VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.add_cookies([{"name": "pm_guide_done", "value": "1", "url": live_server.url}])
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    violations = csp_violations(page)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on B's phone: {errors}"
    assert not violations, f"Content-Security-Policy violations on B's phone: {violations}"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_friend_signs_up_through_the_copied_link_checks_in_and_the_inviter_sees_the_points(
    *,
    page: Page,
    second_phone: Page,
    live_server: Any,
    language: str,
    campaign: Campaign,
    make_user: Callable[..., User],
    login_as: Callable[[Page, User], None],
    switch_language: Callable[[Page, str], None],
    screenshot: Callable[..., Any],
) -> None:
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    inviter = make_user(display_name="小红" if language == "zh-hans" else "Hong")
    link = f"{live_server.url}/r/{invite_code_for(user_id=inviter.pk)}/"
    login_as(page, inviter)
    page.goto("/")
    if language == "en":
        switch_language(page, "en")

    # A: the invite page from the menu, the link copied.
    page.get_by_test_id("nav-menu").click()
    page.get_by_test_id("nav-invite").click()
    expect(page).to_have_url(live_server.url + "/me/invite/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t(language, "Invite friends"))
    expect(page.get_by_test_id("invite-link")).to_have_value(link)
    expect(page.get_by_test_id("no-invitees")).to_be_visible()
    expect(page.get_by_test_id("poster-preview")).to_have_js_property("complete", True)
    assert page.get_by_test_id("poster-preview").evaluate("img => img.naturalWidth") == 750
    fits(page, f"invite page ({language})")
    screenshot(page, f"invite-{language}-360")
    page.get_by_test_id("copy-link").click()
    expect(page.get_by_test_id("copy-status")).to_have_text(
        t(language, "Link copied. Paste it into a chat to invite a friend.")
    )
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == link

    # No share sheet on this phone: the share button stays hidden and the poster downloads, the member's own.
    expect(page.get_by_test_id("share-poster")).to_be_hidden()
    with page.expect_download() as download:
        page.get_by_test_id("poster-download").click()
    assert download.value.suggested_filename == f"invite-{invite_code_for(user_id=inviter.pk)}.png"
    poster = Path(download.value.path()).read_bytes()
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(poster)))] == [link]
    # A phone with a share sheet shares the poster as a file.
    page.context.add_init_script(SHARE_SHEET)
    page.reload()
    page.get_by_test_id("share-poster").click()
    page.wait_for_function("window.__shared.length === 1")
    shared = page.evaluate("window.__shared[0]")
    assert shared["files"][0]["name"] == f"invite-{invite_code_for(user_id=inviter.pk)}.png"
    assert shared["files"][0]["type"] == "image/png"
    assert shared["files"][0]["size"] == len(poster)
    assert link in shared["text"]

    # B: opens the link on their phone, lands on the campaign, signs up and checks in.
    b = second_phone
    b.set_viewport_size(PHONE)
    b.goto(copied)
    expect(b).to_have_url(live_server.url + f"/c/{campaign.slug}/")
    if language == "en":
        switch_language(b, "en")
    else:
        expect(b.get_by_role("status")).to_contain_text(
            t(language, "Your friend's invite is saved: sign up to accept it and get your newcomer gift.")
        )
    b.get_by_test_id("nav-register").click()
    b.get_by_label(t(language, "Phone number"), exact=True).fill("139 8765 4321")
    b.get_by_label(t(language, "Display name"), exact=True).fill("明明" if language == "zh-hans" else "Ming")
    b.get_by_label(t(language, "Password"), exact=True).fill(PASSWORD)
    b.get_by_label(t(language, "Repeat password"), exact=True).fill(PASSWORD)
    b.get_by_test_id("register-submit").click()
    expect(b.get_by_role("status")).to_contain_text(t(language, "Your friend's invite counts: you joined through it."))
    friend = User.objects.get(phone="+8613987654321")
    invite = Invite.objects.get(invitee=friend)
    assert invite.inviter_id == inviter.pk
    assert invite.device  # the device cookie the link gave B's browser
    fits(b, f"home after sign-up ({language})")
    b.goto(f"/c/{campaign.slug}/checkin/")
    b.get_by_test_id("checkin-button").click()
    expect(b.get_by_test_id("checkin-done")).to_be_visible()
    invite.refresh_from_db()
    assert invite.status == InviteStatus.QUALIFIED
    # No Celery worker here: run the job the qualification recorded in the outbox, as the worker would.
    jobs = Entry.objects.filter(job="referrals.leaderboard_sync", status=EntryStatus.PENDING)
    assert [entry.args for entry in jobs] == [[campaign.pk, inviter.pk]]
    for entry in jobs:
        leaderboard_sync.run(*entry.args, outbox_key=entry.key)

    # A: B qualified, masked, and the 200 points.
    page.goto("/me/invite/")
    row = page.get_by_test_id("invitee")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("invitee-name")).to_have_text("明**" if language == "zh-hans" else "M**")
    expect(row.get_by_test_id("invitee-status")).to_have_text(re.compile(t(language, "qualified"), re.IGNORECASE))
    expect(row.get_by_test_id("invitee-points")).to_have_text("+200")
    expect(page.get_by_test_id("count-qualified")).to_have_text("1")
    expect(page.get_by_test_id("points-earned")).to_have_text("200")
    expect(page.get_by_test_id("my-rank")).to_contain_text(t(language, "See the leaderboard"))
    fits(page, f"invite page with a qualified friend ({language})")
    screenshot(page, f"invite-qualified-{language}-360")

    # The leaderboard: A first, marked as the member.
    page.get_by_test_id("leaderboard-link").click()
    expect(page).to_have_url(live_server.url + f"/c/{campaign.slug}/leaderboard/")
    first = page.get_by_test_id("leaderboard-row").first
    expect(first.get_by_test_id("leaderboard-invites")).to_have_text("1")
    expect(first).to_have_attribute("aria-current", "true")
    fits(page, f"leaderboard ({language})")
    screenshot(page, f"invite-leaderboard-{language}-360")
