"""Shared Playwright fixtures for browser tests (Debian's Chromium; browsers cannot be downloaded here).

Use them like this::

    @pytest.mark.browser
    def test_something(page, live_server, login, make_user):
        user = make_user()
        login(page, user.phone)            # through the real login form
        page.goto(live_server.url + "/accounts/profile/")
        expect(page.get_by_role("heading", level=1)).to_have_text(...)

`page` is a phone-sized (390x844) page whose relative URLs resolve against `live_server`, so
`page.goto("/accounts/profile/")` works too. `login_as(page, user)` skips the form when the login itself is
not what the test is about. `switch_language(page, "en")` clicks the header button. `screenshot(page, name)`
saves test-artifacts/<name>.png. A failing test leaves test-artifacts/failures/<test id>.png behind. A test
fails on any JavaScript error and on any Content-Security-Policy violation the page reports.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from accounts.models import User

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MOBILE_VIEWPORT = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEFAULT_PASSWORD = "Str0ng-pass-2026"  # what the make_user fixture gives everyone

expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (set CHROMIUM_PATH)")
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)  # lets the page fixture know the test failed
    return report


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    # Playwright's sync API keeps an asyncio event loop running in this thread; Django would then refuse
    # ORM calls made from the test body ("You cannot call this from an async context"). Only while it runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            yield pw
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, live_server: Any, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    """A fresh phone-sized browser profile. Browser language is Chinese, like most members. The first-visit
    newbie guide is already dismissed unless the test is marked `newbie_guide` (it covers the page)."""
    ctx = browser.new_context(
        base_url=live_server.url,
        viewport=MOBILE_VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    ctx.set_default_timeout(10_000)
    if request.node.get_closest_marker("newbie_guide") is None:
        ctx.add_cookies([{"name": "pm_guide_done", "value": "1", "url": live_server.url}])
    yield ctx
    ctx.close()


# Every page reports a Content-Security-Policy violation to the console (Chromium does by itself; the listener
# makes sure, whatever the browser's wording): the page fixture fails a test that saw one (tests/test_csp.py).
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (e) => console.error(
    "Content Security Policy violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + e.sourceFile + ":" + e.lineNumber));"""


def csp_violations(page: Page) -> list[str]:
    """Collects, for the page's lifetime, the console messages that report a Content-Security-Policy violation."""
    found: list[str] = []
    page.on("console", lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None)
    return found


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    violations = csp_violations(page)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.name)[:120]
        (ARTIFACTS / "failures").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "failures" / f"{name}.png", full_page=True)
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not violations, f"Content-Security-Policy violations on the page: {violations}"


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    def take(page: Page, name: str, *, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=path, full_page=full_page)
        return path

    return take


@pytest.fixture
def switch_language() -> Callable[[Page, str], None]:
    """Click the header's language button (zh-hans / en) and wait for the page to be in that language."""

    def switch(page: Page, language: str) -> None:
        page.get_by_test_id(f"lang-{language}").click()
        expect(page.locator("html")).to_have_attribute("lang", language)

    return switch


@pytest.fixture
def login(live_server: Any) -> Callable[..., None]:
    """Log in through the real login form; waits until the header shows the logged-in navigation."""

    def do_login(page: Page, identifier: str, password: str = DEFAULT_PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.locator("input[name=username]").fill(identifier)
        page.locator("input[name=password]").fill(password)
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("nav-menu")).to_be_visible()  # only signed-in members have the header menu

    return do_login


@pytest.fixture
def login_as(live_server: Any) -> Callable[[Page, User], None]:
    """Give the page a logged-in session for `user` without going through the form (fast)."""

    def do_login(page: Page, user: User) -> None:
        client = Client()
        client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url, "httpOnly": True, "sameSite": "Lax"}]
        )

    return do_login
