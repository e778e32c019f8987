"""Member account journeys in a real browser (Chromium, phone-sized), in both shipped languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from accounts.models import Address, User

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")


def t(language: str, text: str) -> str:
    """`text` as the catalogue translates it into `language` (what the page must show)."""
    with translation.override(language):
        return translation.gettext(text)


def heading(page: Page) -> Any:
    return page.get_by_role("heading", level=1)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_register_login_edit_profile_logout(
    *,
    page: Page,
    live_server: Any,
    language: str,
    switch_language: Callable[[Page, str], None],
    login: Callable[..., None],
    screenshot: Callable[..., Any],
) -> None:
    # The catalogue really is bilingual (otherwise the assertions below would prove nothing).
    assert CJK.search(t("zh-hans", "Create your account"))
    assert t("en", "Create your account") == "Create your account"

    page.goto(live_server.url + "/")
    if language == "en":  # the site (and this browser) default to Chinese; switch with the header button
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        switch_language(page, "en")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_test_id("nav-register")).to_have_text(t(language, "Register"))

    # Register
    page.get_by_test_id("nav-register").click()
    expect(heading(page)).to_have_text(t(language, "Create your account"))
    expect(page.get_by_label(t(language, "Phone number"), exact=True)).to_be_visible()
    page.get_by_label(t(language, "Phone number"), exact=True).fill("139 1234 5678")
    page.get_by_label(t(language, "Email"), exact=True).fill("Lily@Example.com")
    page.get_by_label(t(language, "Display name"), exact=True).fill("Lily")
    page.get_by_label(t(language, "Password"), exact=True).fill("Blossom-2026!")
    page.get_by_label(t(language, "Repeat password"), exact=True).fill("Blossom-2026!")
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_role("status")).to_contain_text(t(language, "Welcome! Your account is ready."))
    expect(page.get_by_test_id("nav-profile")).to_have_text(t(language, "Profile"))
    user = User.objects.get(phone="+8613912345678")
    assert user.email == "lily@example.com"
    assert user.language == language
    assert user.check_password("Blossom-2026!")

    # Log out, then log back in with the email (any case)
    page.get_by_test_id("nav-menu").click()  # signed-in links sit behind the header menu on a phone
    page.get_by_test_id("nav-logout").click()
    expect(page.get_by_test_id("nav-login")).to_have_text(t(language, "Log in"))
    expect(page.get_by_test_id("nav-profile")).to_have_count(0)
    login(page, "LILY@example.com", "Blossom-2026!")
    expect(page.locator("html")).to_have_attribute("lang", language)

    # Edit the profile
    page.get_by_test_id("nav-menu").click()  # signed-in links sit behind the header menu on a phone
    page.get_by_test_id("nav-profile").click()
    expect(heading(page)).to_have_text(t(language, "Profile"))
    expect(page.get_by_text("+8613912345678")).to_be_visible()
    expect(page.get_by_text(t(language, "Member since"))).to_be_visible()
    name_field = page.get_by_label(t(language, "Display name"), exact=True)
    expect(name_field).to_have_value("Lily")
    name_field.fill("  Lily Chen  ")
    page.get_by_test_id("profile-save").click()
    expect(page.get_by_role("status")).to_contain_text(t(language, "Profile saved."))
    expect(name_field).to_have_value("Lily Chen")
    user.refresh_from_db()
    assert user.display_name == "Lily Chen"
    assert user.language == language
    if language == "zh-hans":
        expect(heading(page)).to_have_text("个人资料")
    screenshot(page, f"profile-{language}")

    # Log out: the profile is private again
    page.get_by_test_id("nav-menu").click()  # signed-in links sit behind the header menu on a phone
    page.get_by_test_id("nav-logout").click()
    expect(page.get_by_test_id("nav-login")).to_be_visible()
    page.goto(live_server.url + "/accounts/profile/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/accounts/profile/$"))
    expect(heading(page)).to_have_text(t(language, "Log in"))


@pytest.mark.parametrize(
    ("case", "phone", "password", "field", "message"),
    [
        ("taken phone", "13900000001", "Blossom-2026!", "phone", "This phone number is already registered."),
        ("malformed phone", "12345", "Blossom-2026!", "phone", "Enter a valid phone number."),
        ("weak password", "13900000002", "12345678", "password", "This password is entirely numeric."),
        ("passwords differ", "13900000003", "Blossom-2026!", "password2", "The two passwords differ."),
    ],
)
def test_register_with_bad_input_shows_field_error_and_creates_nothing(
    *,
    page: Page,
    live_server: Any,
    make_user: Callable[..., User],
    screenshot: Callable[..., Any],
    case: str,
    phone: str,
    password: str,
    field: str,
    message: str,
) -> None:
    make_user(phone="+8613900000001", email="taken@example.com")
    users_before = User.objects.count()

    page.goto(live_server.url + "/accounts/register/")
    page.locator("input[name=phone]").fill(phone)
    page.locator("input[name=display_name]").fill("Newbie")
    page.locator("input[name=password]").fill(password)
    repeat = "Something-else-9" if case == "passwords differ" else password
    page.locator("input[name=password2]").fill(repeat)
    page.get_by_test_id("register-submit").click()

    error = page.locator(f'.error[data-field="{field}"]').filter(has_text=t("zh-hans", message))
    expect(error).to_have_count(1)
    assert CJK.search(error.inner_text()), "the error is not shown in Chinese"
    expect(page.locator(".field.has-error")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/accounts/register/$"))
    expect(page.get_by_test_id("nav-login")).to_be_visible()  # not logged in
    expect(page.locator("input[name=phone]")).to_have_value(phone)  # input kept for correction
    assert User.objects.count() == users_before
    assert not User.objects.filter(display_name="Newbie").exists()
    screenshot(page, "register-error-" + case.replace(" ", "-"))


def test_add_shipping_address(
    page: Page,
    live_server: Any,
    make_user: Callable[..., User],
    login: Callable[..., None],
    screenshot: Callable[..., Any],
) -> None:
    user = make_user(display_name="Wang")
    login(page, user.phone)
    zh = "zh-hans"

    page.goto(live_server.url + "/accounts/profile/")
    page.get_by_role("link", name=t(zh, "My shipping addresses")).click()
    expect(heading(page)).to_have_text(t(zh, "My shipping addresses"))
    expect(page.get_by_text(t(zh, "No addresses yet. Add one to receive physical prizes."))).to_be_visible()
    expect(page.get_by_test_id("address")).to_have_count(0)

    page.get_by_role("link", name=t(zh, "Add an address")).click()
    expect(heading(page)).to_have_text(t(zh, "Add an address"))
    page.locator("input[name=recipient]").fill("王小明")
    page.locator("input[name=phone]").fill("138-0013-8000")
    page.locator("input[name=province]").fill("广东省")
    page.locator("input[name=city]").fill("深圳市")
    page.locator("input[name=district]").fill("南山区")
    page.locator("input[name=detail]").fill("科技园南路 1 号")
    page.locator("input[name=postal_code]").fill("5180")  # too short: rejected, nothing saved
    page.get_by_test_id("address-save").click()
    expect(page.locator('.error[data-field="postal_code"]')).to_have_text(t(zh, "A postal code has 6 digits."))
    assert not Address.objects.filter(user=user).exists()

    page.locator("input[name=postal_code]").fill("518057")
    page.locator("input[name=is_default]").check()
    page.get_by_test_id("address-save").click()

    expect(page.get_by_role("status")).to_contain_text(t(zh, "Address saved."))
    card = page.get_by_test_id("address")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("王小明")
    expect(card).to_contain_text("深圳市")
    expect(card).to_contain_text("+8613800138000")
    expect(card.locator(".badge")).to_have_text(t(zh, "Default"))
    address = Address.objects.get(user=user)
    assert address.phone == "+8613800138000"
    assert address.postal_code == "518057"
    assert address.is_default is True
    screenshot(page, "addresses-zh-hans")


def test_language_switch_is_remembered_for_a_logged_in_member(
    page: Page,
    live_server: Any,
    make_user: Callable[..., User],
    login_as: Callable[[Page, User], None],
    switch_language: Callable[[Page, str], None],
) -> None:
    user = make_user(display_name="Xiao Ming", language="zh-hans")
    # A returning member ("welcome back" is not said right after registering).
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=7))
    login_as(page, user)
    page.goto(live_server.url + "/")
    expect(page.get_by_text("欢迎回来，Xiao Ming！")).to_be_visible()

    switch_language(page, "en")
    expect(page.get_by_text("Welcome back, Xiao Ming!")).to_be_visible()
    expect(page.get_by_test_id("lang-en")).to_have_attribute("aria-current", "true")
    user.refresh_from_db()
    assert user.language == "en"

    # A new browser session for the same member comes back in English (preference saved, not just a cookie).
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.locator("input[name=username]").fill(user.email)
    page.locator("input[name=password]").fill("Str0ng-pass-2026")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("nav-profile")).to_have_text("Profile")
    expect(page.locator("html")).to_have_attribute("lang", "en")
