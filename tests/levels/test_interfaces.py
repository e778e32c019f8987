"""Member levels' interfaces: the API's shape and query ceiling (bearer and session), the page in both languages,
members seeing only their own level, the profile link, and the admin (overlapping thresholds refused with a clear
message, members by level, the audited floor action and who may use it)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import token_issue
from campaigns.builders import member_fund
from levels.models import Ladder, Level, LevelChange, MemberLevel
from levels.services import member_level_evaluate

pytestmark = pytest.mark.django_db

API = "/api/v1/me/level"
PAGE = "/me/level/"


def page_client(user: User | None, language: str = "en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
    return client


@pytest.fixture
def climbed(member: User, campaign, make_ladder) -> User:
    """`member` at Gold (1000 earned), with a second member at Bronze who earned 10."""
    make_ladder()
    now = timezone.now()
    member_fund(campaign=campaign, user_id=member.pk, points=1000, now=now, key="earn:gold")
    member_level_evaluate(user_id=member.pk, now=now)
    return member


def test_the_api_shape_and_query_ceiling(climbed: User, make_user) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=climbed).access}")
    assert client.get(API).status_code == 200  # warm-up: the token is then trusted from memory
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(API, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert len(ctx.captured_queries) <= 4  # ladder, levels, the member's row, the figures
    body = response.json()
    assert set(body) == {"ladder", "level", "next_level", "floor", "reached_at", "figures", "progress", "levels"}
    assert body["ladder"]["combine"] == "all"
    assert body["ladder"]["period_key"] == ""
    assert body["level"]["rank"] == 1
    assert body["level"]["name"] == "Gold"
    assert body["level"]["discount_percent"] == "5.00"
    assert body["level"]["reward_points"] == 50
    assert body["next_level"] is None  # the top of a two-level ladder
    assert body["figures"] == {"points_earned": 1050, "spend": 0, "referrals": 0, "checkin_days": 0}
    assert [level["rank"] for level in body["levels"]] == [0, 1]
    assert body["levels"][1]["thresholds"] == {
        "points_earned": 1000,
        "spend": None,
        "referrals": None,
        "checkin_days": None,
    }
    # another member sees their own level, not this one's
    other = make_user()
    mine = APIClient()
    mine.force_authenticate(other)
    theirs = mine.get(API, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert theirs["level"]["rank"] == 0
    assert theirs["level"]["name"] == "青铜"
    assert theirs["figures"]["points_earned"] == 0
    assert theirs["next_level"]["rank"] == 1
    assert theirs["progress"][0] == {"dimension": "points_earned", "value": 0, "need": 1000, "percent": 0}
    assert APIClient().get(API).status_code == 401


def test_the_api_without_an_active_ladder(member_api: APIClient) -> None:
    body = member_api.get(API).json()
    assert body["ladder"] is None
    assert body["levels"] == []
    assert body["progress"] == []


@pytest.mark.parametrize(("language", "name", "other"), [("en", "Gold", "Bronze"), ("zh-hans", "黄金", "青铜")])
def test_the_page_in_both_languages(climbed: User, language: str, name: str, other: str) -> None:
    html = page_client(climbed, language).get(PAGE).content.decode()
    assert f'<html lang="{language}">' in html
    assert f'data-testid="level-name">{name}<' in html
    assert other in html  # the benefits table lists every level
    assert 'aria-current="true"' in html
    assert "You have reached the top level." in html or language != "en"


def test_the_page_shows_progress_bars_with_text(member: User, campaign, make_ladder) -> None:
    make_ladder()
    member_fund(campaign=campaign, user_id=member.pk, points=250, now=timezone.now(), key="earn:1")
    html = page_client(member).get(PAGE).content.decode()
    assert 'data-testid="progress-points_earned"' in html
    assert '<progress id="bar-points_earned" max="1000" value="250">25%</progress>' in html
    assert '<label for="bar-points_earned">Points earned</label>' in html
    assert "250 of 1000 (25%)" in html
    assert 'data-testid="progress-spend"' not in html  # the next level does not set it


def test_the_page_needs_a_login_and_names_no_other_member(climbed: User, make_user) -> None:
    response = page_client(None).get(PAGE)
    assert response.status_code == 302
    assert "login" in response["Location"]
    other = make_user()
    html = page_client(other).get(PAGE, {"user": climbed.pk, "user_id": climbed.pk}).content.decode()
    assert 'data-testid="level-name">Bronze<' in html


def test_the_profile_links_the_level_page(climbed: User) -> None:
    html = page_client(climbed).get(reverse("accounts:profile")).content.decode()
    assert 'data-testid="profile-level-name">Gold<' in html
    assert f'href="{PAGE}"' in html


# --- The admin --------------------------------------------------------------------------------------------------


def _ladder_post(campaign_id: int, levels: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "会员等级",
        "name_en": "Levels",
        "campaign": campaign_id,
        "combine": "all",
        "period": "none",
        "downgrade": "none",
        "active": "on",
        "levels-TOTAL_FORMS": str(len(levels)),
        "levels-INITIAL_FORMS": "0",
        "levels-MIN_NUM_FORMS": "1",
        "levels-MAX_NUM_FORMS": "1000",
    }
    for i, level in enumerate(levels):
        defaults = {"name": f"L{i}", "reward_points": "0", "discount_percent": "0"}
        for key, value in {**defaults, **level}.items():
            data[f"levels-{i}-{key}"] = value
    return data


def test_the_admin_refuses_overlapping_thresholds_with_a_clear_message(operator, campaign) -> None:
    _user, client = operator
    url = reverse("admin:levels_ladder_add")
    overlapping = [
        {"rank": "0", "min_points_earned": "0"},
        {"rank": "1", "min_points_earned": "1000", "min_spend": "500"},
        {"rank": "2", "min_points_earned": "2000", "min_spend": "500"},
    ]
    response = client.post(url, _ladder_post(campaign.pk, overlapping))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Thresholds overlap; nothing was saved." in html
    assert "Level 2 must need more points spent than level 1 (500 is not more than 500)." in html
    assert not Ladder.objects.exists()
    assert not Level.objects.exists()

    fine = [*overlapping[:2], {"rank": "2", "min_points_earned": "2000", "min_spend": "800"}]
    response = client.post(url, _ladder_post(campaign.pk, fine))
    assert response.status_code == 302
    ladder = Ladder.objects.get()
    assert ladder.active
    assert list(ladder.levels.values_list("rank", flat=True)) == [0, 1, 2]


def test_members_by_level_and_the_audited_floor_action(operator, analyst, climbed: User, make_user) -> None:
    user, client = operator
    other = make_user(email="bronze@example.com")
    member_level_evaluate(user_id=other.pk, now=timezone.now())
    changelist = reverse("admin:levels_memberlevel_changelist")
    gold = Level.objects.get(rank=1)
    listed = client.get(changelist, {"level__id__exact": gold.pk}).content.decode()
    assert str(climbed) in listed
    assert "bronze@example.com" not in listed
    assert "bronze@example.com" in client.get(changelist, {"q": "bronze@example.com"}).content.decode()

    row = MemberLevel.objects.get(user=other)
    asked = client.post(changelist, {"action": "set_floor", "_selected_action": [row.pk]})
    assert asked.status_code == 200
    assert "Set a level floor" in asked.content.decode()
    done = client.post(
        changelist,
        {"action": "set_floor", "_selected_action": [row.pk], "level": gold.pk, "reason": "VIP customer"},
    )
    assert done.status_code == 302
    row.refresh_from_db()
    assert (row.level, row.floor) == (gold, gold)
    change = LevelChange.objects.get(user=other, cause="floor")
    assert (change.actor, change.reason) == (user, "VIP customer")

    # analysts look but may not set floors
    _analyst, analyst_client = analyst
    assert analyst_client.get(changelist).status_code == 200
    refused = analyst_client.post(
        changelist,
        {"action": "set_floor", "_selected_action": [row.pk], "level": "", "reason": "x"},
    )
    row.refresh_from_db()
    assert row.floor == gold  # unchanged
    assert refused.status_code in (200, 302, 403)
