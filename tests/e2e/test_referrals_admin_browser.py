"""The review queue in a browser, on a laptop, in both languages: an analyst opens the queue, sees a flagged invite
with its fraud signals in words, rejects it with a reason on the confirmation page, and the decision (status,
reviewer, reason) shows on the invite; the inviter got nothing for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone, translation
from playwright.sync_api import Page, ViewportSize, expect

from accounts.models import User
from campaigns.builders import campaign_live
from points.selectors import balance_for
from referrals.builders import program_build
from referrals.models import Invite, InviteStatus
from referrals.rules import reason_label
from referrals.services import SignupContext, invite_attribute, invite_code_for, invite_qualify

pytestmark = pytest.mark.browser

DESKTOP: ViewportSize = {"width": 1366, "height": 768}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_analyst_rejects_a_flagged_invite_from_the_queue(
    *,
    page: Page,
    live_server: Any,
    language: str,
    make_user: Callable[..., User],
    staff: Callable[[str], tuple[User, Any]],
    login_as: Callable[[Page, User], None],
    screenshot: Callable[..., Any],
) -> None:
    now = timezone.now()
    program_build(campaign=campaign_live(now=now, is_featured=True), device_max=1)
    inviter = make_user(display_name="Ada")
    code = invite_code_for(user_id=inviter.pk)
    friends = [make_user(date_joined=now), make_user(date_joined=now)]
    for friend in friends:  # two sign-ups from one phone: the second is flagged
        invite_attribute(invitee_id=friend.pk, code=code, context=SignupContext(device="e" * 64))
        invite_qualify(invitee_id=friend.pk, action="checkin")
    flagged = Invite.objects.get(invitee=friends[1])
    assert flagged.status == InviteStatus.REVIEW
    analyst, _client = staff("analyst")
    with translation.override(language):
        shared_device = reason_label("shared_device")
        rejected = str(InviteStatus.REJECTED.label)

    page.set_viewport_size(DESKTOP)
    login_as(page, analyst)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/admin/referrals/invitereview/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)  # the clean invite was paid and is not in the queue
    expect(row).to_contain_text(shared_device)
    screenshot(page, f"admin-review-queue-{language}")

    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("reject_selected")
    page.locator(".actions button[type=submit]").click()
    expect(page.get_by_test_id("review-invites")).to_contain_text(shared_device)
    screenshot(page, f"admin-review-reject-{language}")
    page.locator("textarea[name=reason], input[name=reason]").fill("同一台手机注册的小号")
    page.locator("#content form input[type=submit]").click()

    expect(page.locator("ul.messagelist")).to_contain_text(f"#{flagged.pk}")
    expect(page.locator("#result_list tbody tr")).to_have_count(0)  # the queue is empty now
    page.goto(f"{live_server.url}/admin/referrals/invite/{flagged.pk}/change/")
    content = page.locator("#content-main")
    expect(content).to_contain_text(rejected)
    expect(content).to_contain_text("同一台手机注册的小号")
    expect(content).to_contain_text(str(analyst))
    expect(content).to_contain_text(shared_device)
    screenshot(page, f"admin-review-decided-{language}")
    assert Invite.objects.get(pk=flagged.pk).status == InviteStatus.REJECTED
    assert balance_for(user_id=inviter.pk).spendable == 200  # the clean invite's reward only
