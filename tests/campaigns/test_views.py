from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import User
from campaigns.models import Campaign
from tests.campaigns.conftest import DAY

pytestmark = pytest.mark.django_db


def client_in(language: str, user: User | None = None) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
    return client


def test_home_shows_the_featured_campaign_with_countdown(make_campaign: Callable[..., Campaign]) -> None:
    campaign = make_campaign(is_featured=True)
    html = client_in("en").get("/").content.decode()
    assert "Points Carnival" in html
    assert "Rewards that never stop" in html
    assert 'data-testid="phase-badge">Official<' in html
    assert f'data-target="{int(campaign.followup_starts_at.timestamp())}"' in html
    assert "The official phase ends in" in html
    assert reverse("campaigns:rules", args=["carnival"]) in html
    assert reverse("points:mine") in html
    assert 'data-testid="newbie-guide"' in html
    assert "Check in every day" in html
    zh = client_in("zh-hans").get("/").content.decode()
    assert "积分狂欢" in zh
    assert "正式期" in zh


def test_home_links_check_in_only_when_the_route_exists(make_campaign: Callable[..., Campaign]) -> None:
    make_campaign(is_featured=True)
    html = client_in("en").get("/").content.decode()
    try:
        url = reverse("tasks:checkin", args=["carnival"])
    except NoReverseMatch:
        assert 'data-testid="entrance-checkin"' not in html
    else:
        assert f'href="{url}" data-testid="entrance-checkin"' in html


def test_home_counts_down_to_the_official_start_during_warm_up(make_campaign: Callable[..., Campaign]) -> None:
    now = timezone.now()
    campaign = make_campaign(
        is_featured=True,
        warmup_starts_at=now - DAY,
        official_starts_at=now + 2 * DAY + timedelta(hours=1),
        followup_starts_at=now + 10 * DAY,
        ends_at=now + 20 * DAY,
    )
    html = client_in("en").get("/").content.decode()
    assert f'data-target="{int(campaign.official_starts_at.timestamp())}"' in html
    assert "The official phase starts in" in html
    assert '<b data-part="days">2</b>' in html


def test_home_without_featured_campaign_lists_visible_ones(make_campaign: Callable[..., Campaign]) -> None:
    make_campaign(slug="spring", name_en="Spring Fair")
    make_campaign(slug="draft", name_en="Secret Draft", is_published=False)
    html = client_in("en").get("/").content.decode()
    assert 'data-testid="no-featured"' in html
    assert "Spring Fair" in html
    assert "Secret Draft" not in html
    assert "data-countdown" not in html


def test_home_with_no_campaigns_at_all() -> None:
    html = client_in("en").get("/").content.decode()
    assert 'data-testid="no-campaigns"' in html


def test_campaign_list_and_detail(make_campaign: Callable[..., Campaign]) -> None:
    campaign = make_campaign(timezone="Europe/London")
    listing = client_in("en").get("/c/").content.decode()
    assert "Points Carnival" in listing
    assert reverse("campaigns:detail", args=["carnival"]) in listing
    detail = client_in("en").get("/c/carnival/")
    assert detail.status_code == 200
    html = detail.content.decode()
    local = campaign.official_starts_at.astimezone(zoneinfo.ZoneInfo("Europe/London"))
    assert local.strftime("%Y-%m-%d %H:%M") in html
    assert re.search(r"Times are local time in Europe/London \(UTC\+0[01]00\)\.", html)
    assert client_in("en").get("/c/nope/").status_code == 404


def test_rules_are_paragraphs_and_escaped(make_campaign: Callable[..., Campaign]) -> None:
    make_campaign(rules="第一段\n\n<script>alert(1)</script>", rules_en="One.\n\nTwo <b>bold</b>?")
    zh = client_in("zh-hans").get("/c/carnival/rules/").content.decode()
    assert "<p>第一段</p>" in zh
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in zh
    assert "<script>alert(1)</script>" not in zh
    en = client_in("en").get("/c/carnival/rules/").content.decode()
    assert "<p>One.</p>" in en
    assert "<p>Two &lt;b&gt;bold&lt;/b&gt;?</p>" in en


@pytest.mark.parametrize("path", ["/c/draft/", "/c/draft/rules/", "/c/soon/", "/c/soon/rules/"])
def test_preview_is_for_staff_only(make_user, make_campaign: Callable[..., Campaign], path: str) -> None:
    now = timezone.now()
    make_campaign(slug="draft", is_published=False)
    make_campaign(
        slug="soon",
        warmup_starts_at=now + DAY,
        official_starts_at=now + 2 * DAY,
        followup_starts_at=now + 3 * DAY,
        ends_at=now + 4 * DAY,
    )
    member = make_user()
    staff = make_user(is_staff=True)
    assert client_in("en").get(path + "?preview=1").status_code == 404
    assert client_in("en", member).get(path + "?preview=1").status_code == 404
    assert client_in("en", staff).get(path).status_code == 404  # preview must be asked for
    response = client_in("en", staff).get(path + "?preview=1")
    assert response.status_code == 200
    assert 'data-testid="preview-notice"' in response.content.decode()


def test_activity_entrances_link_to_existing_routes_only(make_campaign: Callable[..., Campaign]) -> None:
    make_campaign(is_featured=True)
    html = client_in("en").get("/c/carnival/").content.decode()
    for name, testid in (("tasks:checkin", "entrance-checkin"), ("tasks:list", "entrance-tasks")):
        try:
            url = reverse(name, args=["carnival"])
        except NoReverseMatch:
            assert f'data-testid="{testid}"' not in html
        else:
            assert f'href="{url}" data-testid="{testid}"' in html


@pytest.mark.django_db
def test_register_page_links_the_featured_campaign_rules(client):
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.services import campaign_save

    assert b'data-testid="register-rules"' not in client.get("/accounts/register/").content
    now = timezone.now()
    campaign_save(
        data={
            "name": "狂欢",
            "slug": "fest",
            "rules": "规则",
            "is_published": True,
            "is_featured": True,
            "warmup_starts_at": now - timedelta(days=2),
            "official_starts_at": now - timedelta(days=1),
            "followup_starts_at": now + timedelta(days=5),
            "ends_at": now + timedelta(days=6),
        }
    )
    page = client.get("/accounts/register/").content.decode()
    assert 'data-testid="register-rules"' in page
    assert "/c/fest/rules/" in page
