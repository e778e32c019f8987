from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import Campaign
from tests.campaigns.conftest import DAY

pytestmark = pytest.mark.django_db


def test_list_shows_visible_campaigns_only(api: APIClient, make_campaign: Callable[..., Campaign]) -> None:
    now = timezone.now()
    make_campaign(slug="carnival", is_featured=True)
    make_campaign(slug="draft", is_published=False)
    make_campaign(
        slug="soon",
        warmup_starts_at=now + DAY,
        official_starts_at=now + 2 * DAY,
        followup_starts_at=now + 3 * DAY,
        ends_at=now + 4 * DAY,
    )
    response = api.get("/api/v1/campaigns/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.json()
    assert [c["slug"] for c in body] == ["carnival"]
    item = body[0]
    assert item["name"] == "Points Carnival"
    assert item["theme"] == "Rewards that never stop"
    assert item["phase"] == "official"
    assert item["is_featured"] is True
    assert item["timezone"] == "Asia/Shanghai"
    assert item["banner"] is None
    assert {"warmup_starts_at", "official_starts_at", "followup_starts_at", "ends_at", "next_phase_at"} <= set(item)
    assert item["next_phase_at"] == item["followup_starts_at"]
    assert "rules" not in item


def test_detail_has_rules_in_the_members_language(api: APIClient, make_campaign: Callable[..., Campaign]) -> None:
    make_campaign()
    zh = api.get("/api/v1/campaigns/carnival/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert (zh["name"], zh["rules"]) == ("积分狂欢", "第一条规则。\n\n第二条规则。")
    assert zh["phase_label"] == "正式期"
    en = api.get("/api/v1/campaigns/carnival/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert (en["name"], en["rules"]) == ("Points Carnival", "First rule.\n\nSecond rule.")
    assert en["phase_label"] == "official"


def test_english_falls_back_to_chinese_when_no_translation(api: APIClient, make_campaign: Callable[..., Campaign]):
    make_campaign(name_en="", rules_en="")
    en = api.get("/api/v1/campaigns/carnival/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert (en["name"], en["rules"]) == ("积分狂欢", "第一条规则。\n\n第二条规则。")


@pytest.mark.parametrize("slug", ["nope", "draft"])
def test_unknown_or_unpublished_slug_is_a_404(api: APIClient, make_campaign: Callable[..., Campaign], slug: str):
    make_campaign(slug="draft", is_published=False)
    response = api.get(f"/api/v1/campaigns/{slug}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "campaign_not_found"


def test_staff_get_no_preview_through_the_api(make_user, make_campaign: Callable[..., Campaign]) -> None:
    make_campaign(slug="draft", is_published=False)
    client = APIClient()
    client.force_authenticate(make_user(is_staff=True))
    assert client.get("/api/v1/campaigns/draft/?preview=1").status_code == 404
