"""Under the Content-Security-Policy the admin and the Swagger UI still work in a real browser, and no page reports
a violation (the page fixture fails any test that saw one; the wheel, guide, tasks and accounts browser tests get
the same check). A page that does break the policy is caught: the check itself is tested on a page with an inline
script."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from campaigns.builders import campaign_live
from lottery.builders import wheel_build
from lottery.models import Wheel

from .conftest import CSP_LISTENER, csp_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def wheel(db: Any) -> Wheel:
    return wheel_build(campaign=campaign_live(now=timezone.now()), cost_points=50)


def test_the_admin_works_under_the_policy(
    *,
    page: Page,
    live_server: Any,
    wheel: Wheel,
    operator: tuple[User, Any],
    login_as: Callable[[Page, User], None],
) -> None:
    user, _client = operator
    login_as(page, user)
    response = page.goto(f"{live_server.url}/admin/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#site-name")).to_be_visible()
    # A change form with our own tables (published odds, audit history) and the admin's scripts.
    page.goto(f"{live_server.url}/admin/lottery/wheel/{wheel.pk}/change/")
    expect(page.locator("#published-odds table")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('#published-odds table')).width") == page.evaluate(
        "getComputedStyle(document.querySelector('#published-odds')).width"
    )  # static/css/admin.css applied
    # The task form's autocomplete (select2 from the admin's own static files) opens and searches.
    page.goto(f"{live_server.url}/admin/tasks/taskdefinition/add/")
    page.locator(".field-prerequisite .select2-selection").click()
    expect(page.locator(".select2-search__field")).to_be_visible()
    # A change list and its search.
    page.goto(f"{live_server.url}/admin/accounts/user/")
    expect(page.locator("#changelist")).to_be_visible()
    page.locator("#searchbar").fill(user.email or "")
    page.locator("#searchbar").press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q="))
    expect(page.locator("#result_list")).to_contain_text(user.email or "")


def test_swagger_ui_renders_under_the_policy(page: Page, live_server: Any, db: Any) -> None:
    response = page.goto(f"{live_server.url}/api/docs/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-eval'" not in policy
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20_000)  # its script ran
    expect(page.locator(".swagger-ui .info .title")).to_be_visible()


def test_the_violation_check_catches_an_inline_script(browser: Any, live_server: Any, db: Any) -> None:
    """The fixture's check is not vacuous: a page of ours with an inline script and an inline style reports both."""
    context = browser.new_context(base_url=live_server.url)
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    violations = csp_violations(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate(
        """() => {
            const s = document.createElement("script"); s.textContent = "window.ran = 1"; document.body.append(s);
            const d = document.createElement("div"); d.setAttribute("style", "color: red"); document.body.append(d);
        }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.ran") is None  # the inline script did not run
    assert any("script-src" in v for v in violations), violations
    assert any("style-src" in v for v in violations), violations
    context.close()
