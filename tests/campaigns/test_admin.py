"""Operators create and edit campaigns in the admin; everything goes through campaigns.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import User
from campaigns.models import Campaign
from points.models import ExpiryPolicy
from tests.campaigns.conftest import DAY

pytestmark = pytest.mark.django_db

ADD = "/admin/campaigns/campaign/add/"


@pytest.fixture
def admin_client_en(make_user: Callable[..., User]) -> Client:
    user = make_user(is_staff=True)
    user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _dt(value: Any) -> dict[str, str]:
    local = timezone.localtime(value)
    return {"0": local.strftime("%Y-%m-%d"), "1": local.strftime("%H:%M:%S")}


def form_data(**overrides: Any) -> dict[str, str]:
    now = timezone.now().replace(microsecond=0)
    instants = {
        "warmup_starts_at": now - 7 * DAY,
        "official_starts_at": now - 3 * DAY,
        "followup_starts_at": now + 25 * DAY,
        "ends_at": now + 35 * DAY,
    }
    instants.update({k: v for k, v in overrides.items() if k in instants})
    data = {
        "name": "积分狂欢",
        "name_en": "Points Carnival",
        "slug": "carnival",
        "theme": "",
        "theme_en": "",
        "timezone": "Asia/Shanghai",
        "rules": "规则",
        "rules_en": "Rules",
        "expiry_rule": "year_end",
        "expiry_days": "",
        "is_published": "on",
    }
    for name, value in instants.items():
        for part, text in _dt(value).items():
            data[f"{name}_{part}"] = text
    data.update({k: v for k, v in overrides.items() if k not in instants})
    return data


def test_add_with_misordered_dates_shows_errors_and_saves_nothing(admin_client_en: Client) -> None:
    now = timezone.now()
    response = admin_client_en.post(
        ADD, form_data(warmup_starts_at=now + 5 * DAY, official_starts_at=now, timezone="Nowhere/City", rules=" ")
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "Warm-up must start before the official phase." in form.errors["warmup_starts_at"]
    assert "timezone" in form.errors
    assert "rules" in form.errors
    assert "Warm-up must start before the official phase." in response.content.decode()
    assert not Campaign.objects.exists()


def test_add_and_edit_go_through_the_service(admin_client_en: Client, make_campaign) -> None:
    other = make_campaign(slug="other", is_featured=True)
    response = admin_client_en.post(ADD, form_data(is_featured="on", expiry_rule="days", expiry_days="30"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign = Campaign.objects.get(slug="carnival")
    other.refresh_from_db()
    assert campaign.is_featured
    assert not other.is_featured
    policy = ExpiryPolicy.objects.get(campaign_id=campaign.pk)
    assert (policy.rule, policy.days) == ("days", 30)

    change = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    page = admin_client_en.get(change).content.decode()
    assert 'href="/c/carnival/?preview=1"' in page
    assert "Preview as member" in page
    response = admin_client_en.post(change, form_data(expiry_rule="month_end", expiry_days="30", rules="新规则"))
    assert response.status_code == 302
    campaign.refresh_from_db()
    policy.refresh_from_db()
    assert (campaign.rules, campaign.expiry_days, policy.rule, policy.days) == ("新规则", None, "month_end", None)


def test_changelist_shows_the_current_phase_and_filters(admin_client_en: Client, make_campaign) -> None:
    make_campaign()
    page = admin_client_en.get("/admin/campaigns/campaign/?is_published__exact=1").content.decode()
    assert "official" in page
    assert "is_featured__exact" in page  # the featured filter is offered
