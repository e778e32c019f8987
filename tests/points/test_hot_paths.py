"""Query-count ceilings of the ledger's hot reads over HTTP, bearer token included (issue 12; docs/performance.md)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_issue
from points.selectors import balance_for
from tests.points.conftest import earn

pytestmark = pytest.mark.django_db


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).access}")
    return client


def test_a_balance_read_is_at_most_two_queries_auth_included(member, django_assert_max_num_queries):
    earn(member, 120, now=timezone.now() - timezone.timedelta(minutes=1))
    client = bearer(member)
    assert client.get("/api/v1/points/balance").status_code == 200  # the token is verified once
    with django_assert_max_num_queries(2):
        r = client.get("/api/v1/points/balance")
    assert r.status_code == 200
    assert r.json()["spendable"] == balance_for(user_id=member.pk, now=timezone.now()).spendable == 120


def test_the_first_request_of_a_token_checks_it_in_the_database(member, django_assert_max_num_queries):
    client = bearer(member)
    with django_assert_max_num_queries(2):  # the token with its member (one raw query), then the balance
        assert client.get("/api/v1/points/balance").status_code == 200


def test_a_history_page_is_at_most_two_queries_and_keeps_the_documented_shape(member, django_assert_max_num_queries):
    from points.api import HistoryEntrySerializer
    from points.selectors import history_for

    for amount in (5, 7, 9):
        earn(member, amount, now=timezone.now() - timezone.timedelta(minutes=1), reason="签到", reason_en="Check-in")
    client = bearer(member)
    client.get("/api/v1/points/balance")
    with django_assert_max_num_queries(2):  # the wallet, the page (auth 0)
        r = client.get("/api/v1/points/history", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    expected = HistoryEntrySerializer(history_for(user_id=member.pk), many=True).data
    got = r.json()["results"]
    assert [e["reason"] for e in got] == ["Check-in"] * 3
    assert [e["amount"] for e in got] == [9, 7, 5]
    assert set(got[0]) == set(expected[0])
