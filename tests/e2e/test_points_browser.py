"""A member opens "My points" from the navigation in a real phone-sized browser, in both shipped languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation
from django.utils.text import capfirst
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.points.conftest import earn, spend

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")


def t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def kind_label(language: str, text: str) -> str:
    return capfirst(t(language, text))


@pytest.fixture
def member_with_points(make_user: Callable[..., User]) -> User:
    user = make_user(display_name="Xiao Hong")
    now = timezone.now()
    earn(user, 300, now=now - timedelta(days=2), reason="Spring check-in week", expires_at=now + timedelta(days=20))
    spend(user, 120, key=f"spend:{user.pk}", now=now - timedelta(days=1))
    earn(user, 45, now=now, available_at=now + timedelta(days=7), expires_at=None, reason="Order #1024 (pending)")
    return user


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_member_sees_points_and_history(
    *,
    page: Page,
    live_server: Any,
    language: str,
    member_with_points: User,
    login_as: Callable[[Page, User], None],
    switch_language: Callable[[Page, str], None],
    screenshot: Callable[..., Any],
) -> None:
    assert CJK.search(t("zh-hans", "spent"))  # the kind labels really are translated

    login_as(page, member_with_points)
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    if language == "en":
        switch_language(page, "en")

    page.get_by_test_id("nav-menu").click()  # signed-in links sit behind the header menu on a phone
    page.get_by_test_id("nav-points").click()
    expect(page).to_have_url(re.compile(r"/points/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t(language, "My points"))
    expect(page.get_by_test_id("spendable")).to_have_text("180")
    expect(page.get_by_test_id("pending")).to_have_text("45")
    expect(page.get_by_test_id("expiring-soon")).to_have_text("180")

    entries = page.get_by_test_id("history-entry")
    expect(entries).to_have_count(3)
    expect(entries.nth(0)).to_contain_text(kind_label(language, "earned"))
    expect(entries.nth(0)).to_contain_text("+45")
    expect(entries.nth(1)).to_contain_text(kind_label(language, "spent"))
    expect(entries.nth(1)).to_contain_text("-120")
    expect(entries.nth(2)).to_contain_text("Spring check-in week")
    expect(entries.nth(2)).to_contain_text("+300")

    # Nothing sticks out sideways on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    screenshot(page, f"my-points-{language}")

    # Filtering by kind from the form keeps the language and shows only spending.
    page.get_by_label(t(language, "Type")).select_option("spend")
    page.get_by_role("button", name=t(language, "Filter")).click()
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("-120")
    expect(page.locator("html")).to_have_attribute("lang", language)
