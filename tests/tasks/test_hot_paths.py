"""Query-count ceilings of the check-in and task endpoints (issue 12), with real bearer tokens, after a warm-up.

Ceilings, authentication included (the bearer token costs 0 queries once its process-local cache is warm):
- POST /api/v1/campaigns/<slug>/checkins: ≤ 2 (it is 1: tasks_checkin(), tasks/sql/tasks_checkin.sql, does the
  check-in, its points through the value gate and the `checkin` task progress in one statement);
- GET  /api/v1/campaigns/<slug>/tasks: ≤ 1 (the member's progress rows; the definitions come from the configuration
  cache);
- GET  /api/v1/campaigns/<slug>/checkins: ≤ 1 (the member's check-ins; the rule comes from the configuration cache).

`django_assert_max_num_queries` counts what goes through Django's cursors; `round_trips` counts every statement any
psycopg cursor sends (the ledger's prepared postings use raw cursors, which Django does not see), so a hidden round
trip fails here too. The configuration cache never decides: a campaign changed with QuerySet.update() (no version
bump) is still refused by the SQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import psycopg
import pytest
from django.utils import translation
from rest_framework.test import APIClient

from accounts.services import token_issue
from campaigns.models import Campaign
from campaigns.selectors import campaign_by_slug_cached
from campaigns.services import campaign_points_grant
from points import selectors as ledger
from points.errors import IdempotencyConflict
from points.models import Transfer
from tasks import api, checkins, engine, selectors
from tasks.models import CheckIn, TaskDefinition, TaskProgress, TaskTier, TaskWindow
from tests.tasks.conftest import OFFICIAL, local

pytestmark = pytest.mark.django_db

BASE = "/api/v1/campaigns/carnival"
NOW = local(2026, 3, 2, 8, 0)


class RoundTrips:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __len__(self) -> int:
        return len(self.statements)


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> RoundTrips:
    """Every statement sent through a psycopg cursor (Django's and raw ones) while the test runs."""
    seen = RoundTrips()
    original = psycopg.Cursor.execute

    def execute(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        seen.statements.append(str(query)[:200])
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    return seen


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user, name='hot').access}")
    return client


@pytest.fixture
def tasks(campaign) -> dict[str, TaskDefinition]:
    """A check-in task paid at once (so a first check-in also completes and pays a task), a purchase task and a
    locked one after it."""
    daily = engine.task_definition_save(
        task=TaskDefinition(
            campaign=campaign,
            title="每天签到",
            title_en="Check in today",
            event_type="checkin",
            window=TaskWindow.DAILY,
            target_count=1,
            reward_points=7,
        )
    )
    buy = engine.task_definition_save(
        task=TaskDefinition(
            campaign=campaign,
            tier=TaskTier.INTERMEDIATE,
            title="买三次",
            event_type="purchase",
            target_count=3,
            min_amount=Decimal("50.00"),
            reward_points=30,
            auto_reward=False,
        )
    )
    invite = engine.task_definition_save(
        task=TaskDefinition(
            campaign=campaign,
            tier=TaskTier.ADVANCED,
            title="邀请",
            event_type="invite_qualified",
            target_count=2,
            reward_points=100,
            prerequisite=buy,
            window=TaskWindow.WEEKLY,
            repeatable=True,
        )
    )
    return {"daily": daily, "buy": buy, "invite": invite}


@pytest.fixture
def clock() -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


@pytest.fixture
def warm(campaign, tasks, make_user, clock) -> dict[str, Any]:
    """Two members with bearer tokens; another member has checked in and read everything (the process has its
    configuration cache and content types), and the measured member has made one other read (its token)."""
    other, member = make_user(phone="13800000001"), make_user(phone="13800000002")
    other_api, member_api = bearer(other), bearer(member)
    assert other_api.post(f"{BASE}/checkins").status_code == 201
    assert other_api.get(f"{BASE}/tasks").status_code == 200
    assert other_api.get(f"{BASE}/checkins").status_code == 200
    assert member_api.get("/api/v1/points/balance").status_code == 200
    return {"campaign": campaign, "member": member, "api": member_api, "other": other}


def balance(user) -> int:
    return ledger.balance_for(user_id=user.pk, now=OFFICIAL + timedelta(days=100)).spendable


# --- Ceilings. Writes run as in production: no surrounding transaction (a test transaction would add a savepoint).


@pytest.mark.django_db(transaction=True)
def test_a_first_checkin_of_the_day_is_at_most_two_queries(
    warm, tasks, enqueued, django_assert_max_num_queries, round_trips
):
    member_api = warm["api"]
    enqueued.clear()
    before = len(round_trips)
    with django_assert_max_num_queries(2):
        response = member_api.post(f"{BASE}/checkins", headers={"Idempotency-Key": "first"})
    assert response.status_code == 201, response.content
    assert len(round_trips) - before <= 2, round_trips.statements[before:]
    assert any("tasks_checkin(" in statement for statement in round_trips.statements[before:])  # the counter sees it
    body = response.json()
    assert body | {"id": 0} == {"id": 0, "date": "2026-03-02", "streak": 1, "points": 5, "is_makeup": False}
    checkin = CheckIn.objects.get(pk=body["id"])
    assert (checkin.user_id, checkin.local_date, checkin.points) == (warm["member"].pk, NOW.date(), 5)
    assert checkin.transfer_id is not None
    assert Transfer.objects.get(pk=checkin.transfer_id).amount == 5
    progress = TaskProgress.objects.get(task=tasks["daily"], user=warm["member"])
    assert (progress.window_key, progress.count, progress.claimed_at is not None) == ("2026-03-02", 1, True)
    assert balance(warm["member"]) == 5 + 7  # the check-in and the daily check-in task
    assert enqueued == []  # a first day reaches no milestone (the first is day 3): no streak job to publish


@pytest.mark.django_db(transaction=True)
def test_a_retry_is_409_with_the_first_checkin_and_as_cheap(warm, django_assert_max_num_queries, round_trips):
    member_api = warm["api"]
    first = member_api.post(f"{BASE}/checkins", headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201
    before = len(round_trips)
    with django_assert_max_num_queries(2):
        again = member_api.post(f"{BASE}/checkins", headers={"Idempotency-Key": "k1"})
    assert len(round_trips) - before <= 2, round_trips.statements[before:]
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "already_checked_in"
    assert error["details"]["checkin"] == first.json()
    assert CheckIn.objects.filter(user=warm["member"]).count() == 1
    assert balance(warm["member"]) == 5 + 7


# --- Reads: a surrounding test transaction adds nothing to them.


def test_task_list_is_one_query(warm, tasks, django_assert_max_num_queries, round_trips):
    member_api = warm["api"]
    before = len(round_trips)
    with django_assert_max_num_queries(1):
        response = member_api.get(f"{BASE}/tasks")
    assert len(round_trips) - before <= 1, round_trips.statements[before:]
    assert response.status_code == 200
    cards = {card["id"]: card for tier in response.json()["tiers"] for card in tier["tasks"]}
    assert cards[tasks["invite"].pk]["status"] == "locked"
    assert cards[tasks["daily"].pk]["status"] == "in_progress"


def test_checkin_status_is_one_query(warm, django_assert_max_num_queries, round_trips):
    member_api = warm["api"]
    assert member_api.post(f"{BASE}/checkins").status_code == 201
    before = len(round_trips)
    with django_assert_max_num_queries(1):
        response = member_api.get(f"{BASE}/checkins")
    assert len(round_trips) - before <= 1, round_trips.statements[before:]
    assert response.status_code == 200
    assert (response.json()["checked_in_today"], response.json()["checked_days"]) == (True, ["2026-03-02"])


# --- The configuration cache never decides.


def test_a_stale_cached_campaign_cannot_check_in_outside_the_official_phase(campaign, warm):
    """QuerySet.update() does not bump the configuration version: the process still holds the old campaign, and
    the SQL, which reads the row, refuses."""
    Campaign.objects.filter(pk=campaign.pk).update(
        official_starts_at=NOW + timedelta(days=1), followup_starts_at=NOW + timedelta(days=30)
    )
    cached = campaign_by_slug_cached(slug="carnival", now=NOW)
    assert cached.official_starts_at <= NOW  # the cache is stale: it would let the check-in through
    response = warm["api"].post(f"{BASE}/checkins")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "campaign_not_active"
    assert response.json()["error"]["details"] == {"phase": "warmup"}
    assert not CheckIn.objects.filter(user=warm["member"]).exists()
    assert balance(warm["member"]) == 0


def test_a_stale_cached_campaign_that_was_unpublished_is_not_found(campaign, warm):
    Campaign.objects.filter(pk=campaign.pk).update(is_published=False)
    assert campaign_by_slug_cached(slug="carnival", now=NOW).is_published  # stale
    response = warm["api"].post(f"{BASE}/checkins")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "campaign_not_found"
    assert not CheckIn.objects.filter(user=warm["member"]).exists()


def test_a_changed_checkin_rule_applies_to_the_next_checkin(campaign, warm):
    """The SQL reads the base points from the rule row, even when the cached rule is stale."""
    type(campaign.checkin_rule).objects.filter(campaign=campaign).update(base_points=9)
    response = warm["api"].post(f"{BASE}/checkins")
    assert response.status_code == 201
    assert response.json()["points"] == 9
    assert balance(warm["member"]) == 9 + 7


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_hot_bodies_match_the_serializers_of_the_schema(campaign, tasks, warm, language):
    """The task list and the check-in status are built without serializers; they keep the shape the OpenAPI schema
    (the serializers) documents."""
    member = warm["member"]
    engine.progress_record(
        campaign=campaign, user_id=member.pk, event_type="purchase", amount=Decimal("80"), occurred_at=NOW,
        source_key="e1", now=NOW,
    )  # fmt: skip
    warm["api"].post(f"{BASE}/checkins")
    with translation.override(language):
        groups = selectors.tasks_for_member(campaign=campaign, user_id=member.pk, now=NOW)
        assert {"tiers": [api._tier_body(g) for g in groups]} == api.TaskListSerializer({"tiers": groups}).data
        state = selectors.checkin_status(campaign=campaign, user_id=member.pk, now=NOW)
        assert state is not None
        assert (
            api._status_body(state)
            == api.CheckInStatusSerializer({**state.__dict__, "checked_days": sorted(state.checked_days)}).data
        )
    buy = next(card for group in groups for card in group.tasks if card.task.pk == tasks["buy"].pk)
    assert (buy.count, api._task_body(buy)["min_amount"]) == (1, "50.00")


# --- A posting the ledger refuses rolls back the whole statement and answers as the ledger would.


def test_a_refused_checkin_posting_leaves_nothing_and_the_callers_transaction_usable(campaign, tasks, member):
    key = f"checkin:{campaign.pk}:{member.pk}:2026-03-02"  # the check-in's ledger key, used for other content
    taken = campaign_points_grant(campaign=campaign, user_id=member.pk, amount=99, kind="checkin", key=key, now=NOW)
    with pytest.raises(IdempotencyConflict) as refused:
        checkins.checkin_create(campaign=campaign, user_id=member.pk, now=NOW)
    assert refused.value.details == {"existing": taken.transfer_id}
    assert not CheckIn.objects.filter(user=member).exists()  # the surrounding (test) transaction still works
    assert not TaskProgress.objects.filter(user=member).exists()
    assert balance(member) == 99


def test_a_refused_task_reward_leaves_no_progress(campaign, tasks, member):
    campaign_points_grant(
        campaign=campaign, user_id=member.pk, amount=1, kind="task_reward",
        key=f"task:{tasks['daily'].pk}:{member.pk}:2026-03-02", now=NOW,
    )  # fmt: skip
    with pytest.raises(IdempotencyConflict):
        engine.progress_record(
            campaign=campaign, user_id=member.pk, event_type="checkin", amount=None, occurred_at=NOW, source_key="x",
            now=NOW,
        )  # fmt: skip
    assert not TaskProgress.objects.filter(user=member).exists()
    assert balance(member) == 1
