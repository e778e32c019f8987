"""Member ledger API: GET /api/v1/points/balance and GET /api/v1/points/history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from points import services
from points.services import Member, System
from tests.points.conftest import earn, spend

pytestmark = pytest.mark.django_db

BALANCE = "/api/v1/points/balance"
HISTORY = "/api/v1/points/history"


def parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def get_ok(client: APIClient, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return response.json()


def amounts(body: dict[str, Any]) -> list[int]:
    return [row["amount"] for row in body["results"]]


# --- Balance --------------------------------------------------------------------------------------------


def test_balance_of_a_member_without_points_is_zero(member_api):
    body = get_ok(member_api, BALANCE)
    assert body == {
        "asset": "PTS",
        "spendable": 0,
        "pending": 0,
        "expiring_soon": 0,
        "next_expiry_at": None,
        "next_expiry_amount": 0,
        "next_available_at": None,
    }


def test_balance_splits_spendable_pending_and_expiring(member, member_api):
    now = timezone.now()
    soon, later, available = now + timedelta(days=10), now + timedelta(days=60), now + timedelta(days=7)
    earn(member, 100, now=now, expires_at=None)  # never expires
    earn(member, 30, now=now, expires_at=soon)  # expires within 30 days
    earn(member, 40, now=now, expires_at=later)  # expires, but not soon
    earn(member, 20, now=now, available_at=available, expires_at=None)  # pending

    body = get_ok(member_api, BALANCE)
    assert body["spendable"] == 170
    assert body["pending"] == 20
    assert body["expiring_soon"] == 30
    assert parse(body["next_expiry_at"]) == soon
    assert body["next_expiry_amount"] == 30
    assert parse(body["next_available_at"]) == available

    # Spending uses the soonest-expiring points first: all 30 expiring soon, then 20 of the 40.
    spend(member, 50, key="spend-50", now=now)
    body = get_ok(member_api, BALANCE)
    assert body["spendable"] == 120
    assert body["pending"] == 20
    assert body["expiring_soon"] == 0
    assert parse(body["next_expiry_at"]) == later
    assert body["next_expiry_amount"] == 20


# --- History --------------------------------------------------------------------------------------------


def test_history_signed_amounts_newest_first(member, member_api):
    now = timezone.now()
    first = earn(member, 100, now=now - timedelta(minutes=2), reason="welcome")
    second = spend(member, 30, key="s1", now=now - timedelta(minutes=1))
    third = services.points_adjust(user_id=member.pk, amount=-5, reason="typo", actor_id=None, key="adj-1", now=now)

    body = get_ok(member_api, HISTORY)
    assert [row["id"] for row in body["results"]] == [third.transfer_id, second.transfer_id, first.transfer_id]
    assert amounts(body) == [-5, -30, 100]
    assert [row["kind"] for row in body["results"]] == ["adjust", "spend", "earn"]
    assert body["results"][2]["reason"] == "welcome"
    assert body["results"][2]["kind_label"]  # readable label, not empty
    assert body["next"] is None


def test_history_filters_by_kind(member, member_api):
    earn(member, 100)
    spend(member, 10, key="s1")
    spend(member, 20, key="s2")

    assert amounts(get_ok(member_api, HISTORY, {"kind": "spend"})) == [-20, -10]
    assert amounts(get_ok(member_api, HISTORY, {"kind": "earn"})) == [100]
    assert get_ok(member_api, HISTORY, {"kind": "refund"})["results"] == []


def test_history_filters_by_campaign(member, member_api):
    earn(member, 5, campaign_id=7)
    earn(member, 6, campaign_id=8)
    earn(member, 9)

    assert amounts(get_ok(member_api, HISTORY, {"campaign": 7})) == [5]
    assert amounts(get_ok(member_api, HISTORY, {"campaign": 8})) == [6]
    assert amounts(get_ok(member_api, HISTORY, {"campaign": 99})) == []
    assert sorted(amounts(get_ok(member_api, HISTORY))) == [5, 6, 9]


def test_history_date_filters_use_shanghai_days(member, member_api):
    # 23:30 on 9 May and 00:30 on 10 May in Shanghai: the same UTC date (9 May), different local dates.
    earn(member, 1, now=datetime(2026, 5, 9, 15, 30, tzinfo=UTC))
    earn(member, 2, now=datetime(2026, 5, 9, 16, 30, tzinfo=UTC))
    earn(member, 3, now=datetime(2026, 5, 11, 3, 0, tzinfo=UTC))  # 11 May, 11:00 local

    assert amounts(get_ok(member_api, HISTORY, {"date_from": "2026-05-10"})) == [3, 2]
    assert amounts(get_ok(member_api, HISTORY, {"date_to": "2026-05-09"})) == [1]
    assert amounts(get_ok(member_api, HISTORY, {"date_from": "2026-05-10", "date_to": "2026-05-10"})) == [2]
    assert amounts(get_ok(member_api, HISTORY, {"date_from": "2026-05-09", "date_to": "2026-05-11"})) == [3, 2, 1]
    assert amounts(get_ok(member_api, HISTORY, {"date_from": "2026-05-12"})) == []


def test_history_cursor_pagination_visits_every_entry_once(member, member_api):
    posted = [earn(member, n, key=f"e{n}").transfer_id for n in range(1, 46)]

    seen: list[int] = []
    url: str | None = HISTORY
    pages = 0
    while url:
        body = get_ok(member_api, url)
        assert len(body["results"]) <= 20
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
        assert pages < 10, "pagination does not end"
    assert pages == 3
    assert len(seen) == len(set(seen)) == 45
    assert seen == sorted(posted, reverse=True)


def test_history_page_size(member, member_api):
    for n in range(1, 13):
        earn(member, n, key=f"e{n}")

    body = get_ok(member_api, HISTORY, {"page_size": 5})
    assert amounts(body) == [12, 11, 10, 9, 8]
    assert body["next"] is not None
    assert "page_size=5" in body["next"]
    body = get_ok(member_api, body["next"])
    assert amounts(body) == [7, 6, 5, 4, 3]
    assert len(get_ok(member_api, HISTORY, {"page_size": 1000})["results"]) == 12  # capped at 100, not an error


def test_history_pagination_keeps_filters(member, member_api):
    for n in range(1, 8):
        earn(member, n, key=f"e{n}")
        spend(member, 1, key=f"s{n}")

    body = get_ok(member_api, HISTORY, {"kind": "earn", "page_size": 4})
    first_page = amounts(body)
    body = get_ok(member_api, body["next"])
    assert first_page + amounts(body) == [7, 6, 5, 4, 3, 2, 1]
    assert body["next"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "gift"}, "kind"),
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"date_from": "2026-05-10", "date_to": "2026-05-09"}, "date_to"),
        ({"campaign": "abc"}, "campaign"),
        ({"campaign": "0"}, "campaign"),
        ({"date_to": "9999-12-31"}, "date_to"),
    ],
)
def test_history_bad_input_is_400(member, member_api, params, field):
    earn(member, 10)
    response = member_api.get(HISTORY, params)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"]
    assert field in error["details"]


def test_history_invalid_cursor_is_400(member, member_api):
    earn(member, 10)
    response = member_api.get(HISTORY, {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize("url", [BALANCE, HISTORY])
def test_anonymous_gets_401(api, url):
    response = api.get(url)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_other_members_entries_never_appear(member, member_api, make_user):
    other = make_user()
    mine = earn(member, 10, campaign_id=3).transfer_id
    earn(other, 999, campaign_id=3)
    spend(other, 99, key="other-spend", campaign_id=3)
    # A transfer between two system accounts touches no member at all.
    services.transfer_post(key="sys", debit=System("issuance", 3), credit=System("prize", 3), amount=7, kind="prize")
    services.transfer_post(key="gift", debit=Member(other.pk), credit=System("spend"), amount=1, kind="spend")

    for params in ({}, {"campaign": 3}, {"kind": "spend"}, {"kind": "earn"}):
        ids = [row["id"] for row in get_ok(member_api, HISTORY, params)["results"]]
        assert ids == ([mine] if params.get("kind") != "spend" else [])
    assert get_ok(member_api, BALANCE)["spendable"] == 10


def test_history_extreme_valid_dates_do_not_crash(member, member_api):
    earn(member, 10)
    assert amounts(get_ok(member_api, HISTORY, {"date_from": "0001-01-01"})) == [10]
    assert amounts(get_ok(member_api, HISTORY, {"date_from": "9999-12-30", "date_to": "9999-12-30"})) == []
    assert amounts(get_ok(member_api, HISTORY, {"date_to": "0001-01-01"})) == []
