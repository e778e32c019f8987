"""A new member sees the newbie guide, checks in, sees the calendar and streak, opens the task list, claims the
check-in task and sees the reward, in both shipped languages. Nothing is frozen: the campaign is built around
the real current time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from campaigns.builders import campaign_live
from campaigns.models import Campaign
from points import selectors as ledger
from tasks.checkins import checkin_rule_save
from tasks.engine import task_definition_save
from tasks.models import CheckInRule, TaskDefinition

pytestmark = pytest.mark.browser


def t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def carnival(db: Any, monkeypatch: pytest.MonkeyPatch) -> Campaign:
    monkeypatch.setattr("outbox.services.publish", lambda **kwargs: None)  # no broker needed here
    campaign = campaign_live(now=timezone.now(), rules="每日签到可得积分。", is_featured=True, expiry_rule="year_end")
    checkin_rule_save(rule=CheckInRule(campaign=campaign, base_points=5, milestones=[{"day": 3, "points": 10}]))
    task_definition_save(
        task=TaskDefinition(
            campaign=campaign,
            tier="beginner",
            title="签到一次",
            title_en="Check in once",
            event_type="checkin",
            target_count=1,
            reward_points=20,
            auto_reward=False,
        )
    )
    share = task_definition_save(
        task=TaskDefinition(
            campaign=campaign,
            tier="beginner",
            title="分享海报",
            title_en="Share the poster",
            event_type="feature_used:share_poster",
            reward_points=10,
            sort_order=1,
        )
    )
    task_definition_save(
        task=TaskDefinition(
            campaign=campaign,
            tier="advanced",
            title="大额消费",
            title_en="Big spender",
            event_type="purchase",
            min_amount=500,
            reward_points=200,
            prerequisite=share,
        )
    )
    return campaign


@pytest.mark.newbie_guide
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_member_checks_in_and_claims_a_task_reward(
    *,
    page: Page,
    live_server: Any,
    language: str,
    carnival: Campaign,
    make_user: Callable[..., Any],
    login_as: Callable[..., None],
    screenshot: Callable[..., Any],
) -> None:
    member = make_user()
    login_as(page, member)
    if language != "zh-hans":
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])

    # A new member lands on the home page: the newbie guide walks them through, then the check-in entrance.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    guide = page.get_by_test_id("newbie-guide")
    expect(guide).to_be_visible()
    expect(page.get_by_test_id("guide-step").first).to_be_visible()
    page.get_by_test_id("guide-skip").click()
    expect(guide).to_be_hidden()
    page.get_by_test_id("entrance-checkin").click()
    expect(page).to_have_url(live_server.url + "/c/carnival/checkin/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t(language, "Daily check-in"))
    expect(page.get_by_test_id("streak")).to_have_text("0")
    page.get_by_test_id("checkin-button").click()
    expect(page.get_by_test_id("checkin-done")).to_be_visible()
    expect(page.get_by_test_id("streak")).to_have_text("1")
    today = timezone.localdate(timezone.now()).isoformat()
    expect(page.get_by_test_id("calendar").locator(f'[data-date="{today}"]')).to_have_class("day checked today")

    page.get_by_test_id("tasks-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t(language, "Task challenges"))
    tasks = page.get_by_test_id("task")
    expect(tasks).to_have_count(3)
    checkin_task, big = tasks.nth(0), tasks.nth(2)
    title = "签到一次" if language == "zh-hans" else "Check in once"
    expect(checkin_task.get_by_role("heading")).to_have_text(title)
    expect(checkin_task.get_by_test_id("task-progress")).to_have_text("1 / 1")
    expect(page.get_by_test_id("tier-advanced")).to_contain_text(t(language, "advanced").capitalize())
    expect(big).to_have_attribute("data-status", "locked")
    share_title = "分享海报" if language == "zh-hans" else "Share the poster"
    expect(big.get_by_test_id("task-locked")).to_have_text(
        t(language, "Complete “%(task)s” first.") % {"task": share_title}
    )
    screenshot(page, f"tasks-before-claim-{language}")

    checkin_task.get_by_test_id("task-claim").click()
    with translation.override(language):
        expected = translation.gettext("Reward claimed: +%(points)d points for “%(task)s”.") % {
            "points": 20,
            "task": title,
        }
    expect(page.locator(".msg-success")).to_have_text(expected)
    expect(page.get_by_test_id("task").nth(0)).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("task").nth(0).get_by_test_id("task-claim")).to_have_count(0)
    expect(page.get_by_test_id("task").nth(2)).to_have_attribute("data-status", "locked")  # still locked
    screenshot(page, f"tasks-after-claim-{language}")
    assert ledger.balance_for(user_id=member.pk, now=timezone.now()).spendable == 25
