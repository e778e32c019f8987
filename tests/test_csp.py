"""Content-Security-Policy (django-csp, config/settings/base.py): every page and the admin carry a policy that runs
only our own files — no inline scripts or styles, no eval, nothing from other origins; our templates need none of
them (checked in the templates and in the rendered pages); the Swagger UI is the one view with a wider style policy,
and its start-up script is a file too. The browser half (no violation reported while the wheel, the guide, the
admin and Swagger UI work) is tests/e2e/test_csp_browser.py and the shared page fixture of tests/e2e."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from accounts.services import token_issue
from campaigns.builders import campaign_live
from config.api_middleware import API_CONTENT_SECURITY_POLICY
from lottery.builders import wheel_build

ROOT = Path(__file__).resolve().parents[1]
HEADER = "Content-Security-Policy"


def policy(response) -> dict[str, list[str]]:
    """The response's policy as {directive: [sources]}."""
    assert HEADER in response, f"no {HEADER} on {response.request['PATH_INFO']}"
    directives = {}
    for part in response[HEADER].split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


class InlineFinder(HTMLParser):
    """Inline scripts (a <script> without src that is not a JSON data block), <style> elements, style="" and
    on*="" attributes and javascript: URLs in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and "src" not in values and values.get("type") != "application/json":
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style":
                self.found.append(f"style= on <{tag}>")
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL on <{tag}>")


def inline_parts(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


def test_the_inline_finder_finds_what_csp_would_block():
    assert inline_parts('<script>alert(1)</script><script src="/a.js"></script>') == ["inline <script>"]
    assert inline_parts('<script type="application/json" id="x">{}</script>') == []
    assert inline_parts('<div style="width: 5%"></div><style>a{}</style>') == ["style= on <div>", "<style>"]
    assert inline_parts('<a href="javascript:void(0)" onclick="x()">x</a>') == [
        "javascript: URL on <a>",
        "onclick= on <a>",
    ]


def test_no_template_of_ours_needs_inline_script_or_style():
    offenders = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        found = [m.group(0) for m in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", text)]
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert not offenders


@pytest.mark.django_db
def test_pages_carry_a_strict_policy(member):
    campaign = campaign_live(now=timezone.now(), slug="carnival")
    wheel_build(campaign=campaign)
    client = Client()
    client.force_login(member)
    pages = ["/", "/c/carnival/", "/c/carnival/wheel/", "/c/carnival/wheel/fairness/", "/accounts/profile/"]
    for url in [*pages, "/accounts/login/", "/no-such-page/"]:
        response = (client if url in pages else Client()).get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        directives = policy(response)
        assert directives["default-src"] == ["'self'"], url
        assert directives["script-src"] == ["'self'"], url
        assert directives["style-src"] == ["'self'"], url
        assert directives["object-src"] == ["'none'"], url
        assert directives["frame-ancestors"] == ["'none'"], url
        assert "'unsafe-inline'" not in response[HEADER]
        assert "'unsafe-eval'" not in response[HEADER]
        if response.status_code == 200:
            assert inline_parts(response.content.decode()) == [], url


@pytest.mark.django_db
def test_the_admin_carries_the_policy(operator):
    _user, client = operator
    for url in ["/admin/", "/admin/accounts/user/", "/admin/lottery/wheel/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert policy(response)["script-src"] == ["'self'"]
    login = Client().get("/admin/login/")
    assert policy(login)["script-src"] == ["'self'"]
    assert inline_parts(login.content.decode()) == []


@pytest.mark.django_db
def test_api_responses_carry_the_policy_too():
    response = Client().get("/api/v1/campaigns/")
    assert policy(response)["default-src"] == ["'self'"]


@pytest.mark.django_db
def test_a_bearer_api_call_gets_the_strict_api_policy(member):
    """JSON for an app is never a document: nothing may load or frame it. A constant (config.api_middleware), not
    the page policy built per response; a bad token's 401 carries it too, and a page keeps the page policy."""
    access = token_issue(user=member, name="csp").access
    client = Client(HTTP_AUTHORIZATION=f"Bearer {access}")
    for response in (
        client.get("/api/v1/points/balance"),
        Client(HTTP_AUTHORIZATION="Bearer nope").get("/api/v1/points/balance"),
    ):
        assert response.status_code in {200, 401}
        assert response[HEADER] == API_CONTENT_SECURITY_POLICY
        assert policy(response) == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}
    assert policy(client.get("/admin/login/"))["script-src"] == ["'self'"]


@pytest.mark.django_db
def test_swagger_ui_runs_its_start_up_script_from_a_file():
    client = Client()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    directives = policy(page)
    assert directives["script-src"] == ["'self'"]  # scripts stay strict here too
    assert directives["style-src"] == ["'self'", "'unsafe-inline'"]  # Swagger UI's styles
    assert directives["img-src"] == ["'self'", "data:"]
    html = page.content.decode()
    assert [p for p in inline_parts(html) if "script" in p] == []
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', html)
    assert script_url is not None, html
    script = client.get(script_url.group(1).replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content
    # Only that view is widened.
    assert "'unsafe-inline'" not in client.get("/api/schema/")[HEADER]
