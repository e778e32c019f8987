"""The member page /points/ ("My points"), through Django's test client."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation
from django.utils.text import capfirst

from points.views import PAGE_SIZE
from tests.points.conftest import earn, spend

pytestmark = pytest.mark.django_db

URL = "/points/"
CJK = re.compile(r"[\u4e00-\u9fff]")


def t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def label(language: str, kind_label: str) -> str:
    """How the page shows a transfer kind: translated, first letter capitalised."""
    return capfirst(t(language, kind_label))


@pytest.fixture
def client_in(member):
    def make(language: str | None = None) -> Client:
        client = Client()
        client.force_login(member, backend="accounts.backends.PhoneOrEmailBackend")
        if language:
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client

    return make


def entries(html: str) -> list[str]:
    return re.findall(r'data-testid="history-entry">(.*?)</li>', html, re.S)


def signed_amounts(html: str) -> list[str]:
    return re.findall(r'class="amount-(?:pos|neg)">([+-]?\d+)</span>', html)


def text_of(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">(.*?)</', html, re.S)
    assert match, f"no element with data-testid={testid}"
    return match.group(1).strip()


def more_link(html: str) -> str | None:
    match = re.search(r'href="\?([^"]*)" data-testid="history-more"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def test_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "next=/points/" in response["Location"]


def test_empty_page_for_a_new_member(client_in):
    response = client_in().get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert text_of(html, "spendable") == "0"
    assert text_of(html, "pending") == "0"
    assert entries(html) == []
    assert t("zh-hans", "No points activity yet.") in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_shows_balance_and_readable_history(member, client_in, language):
    # The catalogue really translates the kind labels (otherwise the zh-hans run would prove nothing).
    assert CJK.search(t("zh-hans", "earned"))
    assert t("en", "earned") == "earned"
    assert label("en", "earned") == "Earned"
    now = timezone.now()
    earn(member, 120, now=now - timedelta(hours=2), reason="Spring sale", expires_at=now + timedelta(days=5))
    spend(member, 20, key="s1", now=now - timedelta(hours=1))
    earn(member, 15, now=now, available_at=now + timedelta(days=3), expires_at=None)

    response = client_in(None if language == "zh-hans" else language).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert text_of(html, "spendable") == "100"
    assert text_of(html, "pending") == "15"
    assert text_of(html, "expiring-soon") == "100"
    assert signed_amounts(html) == ["+15", "-20", "+120"]
    rows = entries(html)
    assert len(rows) == 3
    assert f"<strong>{label(language, 'spent')}</strong>" in rows[1]
    assert f"<strong>{label(language, 'earned')}</strong>" in rows[2]
    assert "Spring sale" in rows[2]
    if language == "zh-hans":
        assert "<strong>Earned</strong>" not in html  # the raw English label never leaks into the Chinese page


def test_filter_by_kind(member, client_in):
    earn(member, 100)
    spend(member, 7, key="s1")
    spend(member, 8, key="s2")

    html = client_in().get(URL, {"kind": "spend"}).content.decode()
    assert signed_amounts(html) == ["-8", "-7"]
    assert 'value="spend" selected' in html
    html = client_in().get(URL, {"kind": "earn"}).content.decode()
    assert signed_amounts(html) == ["+100"]


def test_filter_by_dates_in_shanghai_time(member, client_in):
    earn(member, 1, now=datetime(2026, 5, 9, 15, 30, tzinfo=UTC))  # 9 May 23:30 in Shanghai
    earn(member, 2, now=datetime(2026, 5, 9, 16, 30, tzinfo=UTC))  # 10 May 00:30 in Shanghai

    html = client_in().get(URL, {"date_from": "2026-05-10"}).content.decode()
    assert signed_amounts(html) == ["+2"]
    html = client_in().get(URL, {"date_to": "2026-05-09"}).content.decode()
    assert signed_amounts(html) == ["+1"]


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "not-a-date"},
        {"date_to": "2026-02-30"},
        {"date_from": "2026-05-10", "date_to": "2026-05-01"},
        {"date_to": "9999-12-31"},
        {"kind": "gift"},
        {"before": "abc"},
        {"before": str(2**70)},
    ],
)
def test_bad_filters_show_an_error_and_do_not_crash(member, client_in, params):
    earn(member, 10)
    response = client_in("en").get(URL, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error" role="alert"' in html
    assert text_of(html, "spendable") == "10"
    assert signed_amounts(html) == ["+10"]  # shown unfiltered, nothing hidden by a half-applied filter


def test_end_date_before_start_date_message(member, client_in):
    html = client_in("en").get(URL, {"date_from": "2026-05-10", "date_to": "2026-05-01"}).content.decode()
    assert "The end date is before the start date." in html


def test_older_entries_pagination(member, client_in):
    total = PAGE_SIZE * 2 + 5
    for n in range(1, total + 1):
        earn(member, n, key=f"e{n}")
    client = client_in()

    seen: list[str] = []
    query: str | None = ""
    pages = 0
    while query is not None:
        html = client.get(f"{URL}?{query}").content.decode()
        page = signed_amounts(html)
        assert 0 < len(page) <= PAGE_SIZE
        seen += page
        query = more_link(html)
        pages += 1
        assert pages < 10
    assert pages == 3
    assert seen == [f"+{n}" for n in range(total, 0, -1)]  # newest first, none twice, none missing


def test_older_entries_link_keeps_the_filter(member, client_in):
    for n in range(1, PAGE_SIZE + 4):
        earn(member, n, key=f"e{n}")
        spend(member, 1, key=f"s{n}")
    client = client_in()

    html = client.get(URL, {"kind": "earn"}).content.decode()
    query = more_link(html)
    assert query is not None
    assert parse_qs(query)["kind"] == ["earn"]
    html = client.get(f"{URL}?{query}").content.decode()
    assert signed_amounts(html) == ["+3", "+2", "+1"]
    assert more_link(html) is None


def test_older_entries_link_after_a_bad_filter_moves_on(member, client_in):
    """With an invalid filter the page shows the whole history; its "Older entries" link must page through it
    instead of showing the first page again and again."""
    for n in range(1, PAGE_SIZE + 4):
        earn(member, n, key=f"e{n}")
    client = client_in()

    html = client.get(URL, {"date_from": "bad"}).content.decode()
    first = signed_amounts(html)
    query = more_link(html)
    assert query is not None
    html = client.get(f"{URL}?{query}").content.decode()
    assert signed_amounts(html) == ["+3", "+2", "+1"]
    assert not set(first) & {"+3", "+2", "+1"}
    assert urlsplit(f"?{query}").query
