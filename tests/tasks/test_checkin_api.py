import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.services import campaign_save
from points import selectors as ledger
from tasks.models import CheckIn, StreakReward
from tests.tasks.conftest import local

URL = "/api/v1/campaigns/carnival/checkins"


@pytest.fixture
def at():
    """Freeze 'now' for the API (services read timezone.now())."""

    def freeze(moment):
        return mock.patch("django.utils.timezone.now", return_value=moment)

    return freeze


@pytest.mark.django_db
def test_checkin_api_flow(campaign, member_api, member, at):
    with at(local(2026, 3, 2, 9)):
        status = member_api.get(URL).json()
        assert status["checked_in_today"] is False
        assert status["next_milestone"] == {"day": 3, "points": 10, "checkins_to_go": 3}
        created = member_api.post(URL)
        assert created.status_code == 201, created.content
        assert created.json()["streak"] == 1
        again = member_api.post(URL)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "already_checked_in"
        assert again.json()["error"]["details"]["checkin"]["id"] == created.json()["id"]
        status = member_api.get(URL).json()
        assert status["checked_in_today"] is True
        assert status["streak"] == 1
        assert status["checked_days"] == ["2026-03-02"]
    assert CheckIn.objects.count() == 1


@pytest.mark.django_db
def test_checkin_api_errors(campaign, member_api, api, at):
    with at(campaign.official_starts_at - timedelta(minutes=1)):
        r = member_api.post(URL)
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "campaign_not_active"
    with at(local(2026, 3, 2)):
        assert member_api.post("/api/v1/campaigns/nope/checkins").status_code == 404
        assert api.post(URL).status_code == 401
        bad = member_api.post(URL + "/makeup", {"date": "not-a-date"}, format="json")
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "validation_error"
        future = member_api.post(URL + "/makeup", {"date": "2026-03-09"}, format="json")
        assert future.status_code == 422
        assert future.json()["error"]["code"] == "makeup_not_allowed"
    assert not CheckIn.objects.exists()


@pytest.mark.django_db
def test_unpublished_campaign_is_invisible(campaign, member_api, at):
    campaign_save(campaign=campaign, data={"is_published": False})
    with at(local(2026, 3, 2)):
        assert member_api.post(URL).status_code == 404


@pytest.mark.django_db
def test_checkin_page(campaign, client, member, at):
    client.force_login(member, backend="accounts.backends.PhoneOrEmailBackend")
    with at(local(2026, 3, 2)):
        page = client.get("/c/carnival/checkin/")
        assert page.status_code == 200
        assert b'data-testid="checkin-button"' in page.content
        done = client.post("/c/carnival/checkin/submit/", follow=True)
        assert b'data-testid="checkin-done"' in done.content
        assert done.content.count(b'data-testid="checked-day"') == 1
        again = client.post("/c/carnival/checkin/submit/", follow=True)
        assert "今天已经签到" in again.content.decode() or "already checked in" in again.content.decode()
    assert CheckIn.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery
def test_real_worker_pays_streak_bonus_within_seconds(campaign, member):
    """Checking in enqueues the streak job after commit; a real worker pays the day-3 bonus."""
    from tests.test_celery import start_worker

    worker = start_worker(database=connection.settings_dict["NAME"])
    proc = next(worker)
    try:
        client = APIClient()
        client.force_authenticate(member)
        for day in (1, 2, 3):
            with mock.patch("django.utils.timezone.now", return_value=local(2026, 3, day)):
                assert client.post(URL).status_code == 201
        deadline = time.monotonic() + 60
        while not StreakReward.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None
        assert list(StreakReward.objects.values_list("day", "points")) == [(3, 10)]
        assert ledger.balance_for(user_id=member.pk, now=timezone.now() + timedelta(days=400)).spendable == 25
    finally:
        next(worker, None)  # resume the generator so it terminates the worker (close() would skip that)
