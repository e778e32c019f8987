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
    with django_assert_max_num_queries(3):  # the token and its user, then the balance
        assert client.get("/api/v1/points/balance").status_code == 200
