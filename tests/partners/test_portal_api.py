"""The partner app's read API: GET /api/v1/partner/dashboard, /statements, /statements/{period} — partner users only
(anyone else 404 partner_not_found, anonymous 401), own partner only (another partner's month 404
statement_not_found), texts in the request's language, and few queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import token_issue
from partners.builders import tiers_build
from partners.statements import statement_pay
from partners.tiers import partner_tier_set
from tests.partners.portal_world import partner_with_login, sell, statement_for_month, this_month_start

pytestmark = pytest.mark.django_db


def bearer(user: User, language: str = "en") -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user, name='partner app').access}")
    return client


def test_the_dashboard_in_english_with_a_bearer_token() -> None:
    login = partner_with_login("EDGE")
    sell(login.partner, "49999.99", sold_at=this_month_start())
    gold = tiers_build()[1]
    partner_tier_set(partner=login.partner, tier=gold, actor_id=None, reason="promotion")
    sell(login.partner, "0.01", sold_at=this_month_start())  # Gold's richer schedule: 3 % / 4.5 % / 6 %

    response = bearer(login.user).get("/api/v1/partner/dashboard")

    assert response.status_code == 200
    body = response.json()
    assert body["partner"] == "EDGE"
    assert (body["sales"], body["returns"], body["net_sales"]) == ("50000.00", "0.00", "50000.00")
    assert body["current_band"] == {"lower": "50000.00", "rate": "4.5"}
    assert body["next_band"] == {"lower": "200000.00", "rate": "6"}
    assert body["to_next_band"] == "150000.00"
    assert body["estimated_rebate"] == "1500.00"  # 50,000 × 3 %, and nothing yet in the 4.5 % band
    assert body["rebate_lines"][0] == {
        "lower": "0.00",
        "upper": "50000.00",
        "rate": "3",
        "base": "50000.00",
        "amount": "1500.00",
    }
    assert body["tier"] == {
        "rank": 2,
        "name": "Gold",
        "agency_discount": "8",
        "new_product_priority": True,
        "marketing_plan": "A quarterly co-marketing plan",
    }
    assert body["payable"] == "0.00"
    assert [(c["from_tier"], c["to_tier"], c["upgrade"]) for c in body["tier_changes"]] == [("Silver", "Gold", True)]
    assert body["recruiting_link"] == f"http://testserver/partner/join/{login.partner.referral_code}/"


def test_the_dashboard_in_chinese_with_the_session() -> None:
    login = partner_with_login("ZH")
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(login.user, backend="accounts.backends.PhoneOrEmailBackend")
    body = client.get("/api/v1/partner/dashboard").json()
    assert body["tier"]["name"] == "银牌"
    assert body["estimated_rebate"] == "0.00"
    assert body["next_band"] == {"lower": "50000.00", "rate": "3.5"}


@pytest.mark.parametrize(
    "url", ["/api/v1/partner/dashboard", "/api/v1/partner/statements", "/api/v1/partner/statements/2026-02"]
)
def test_only_partner_users_get_an_answer(url: str, make_user: Callable[..., User]) -> None:
    owner = partner_with_login("AAA")
    statement_for_month(owner.partner, "2026-02", ["100.00"])
    member = bearer(make_user()).get(url)
    assert member.status_code == 404
    assert member.json()["error"]["code"] == "partner_not_found"
    staff = bearer(make_user(is_staff=True)).get(url)
    assert staff.status_code == 404
    assert staff.json()["error"]["code"] == "partner_not_found"
    anonymous = APIClient().get(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert bearer(owner.user).get(url).status_code == 200


def test_statements_are_the_callers_own() -> None:
    a = partner_with_login("AAA")
    b = partner_with_login("BBB")
    january = statement_for_month(a.partner, "2026-01", ["1000.00"])
    statement_pay(statement=january, actor_id=None)
    statement_for_month(a.partner, "2026-02", ["60000.00"])

    listed = bearer(a.user).get("/api/v1/partner/statements").json()["results"]
    assert [(row["period"], row["status"], row["closing"]) for row in listed] == [
        ("2026-02", "unpaid", "1350.00"),
        ("2026-01", "paid", "20.00"),
    ]
    assert listed[0]["url"] == "http://testserver/api/v1/partner/statements/2026-02"
    assert bearer(b.user).get("/api/v1/partner/statements").json() == {"results": []}

    other = bearer(b.user).get("/api/v1/partner/statements/2026-02")
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "statement_not_found"

    detail = bearer(a.user).get("/api/v1/partner/statements/2026-02").json()
    assert (detail["sales"], detail["net_sales"], detail["rebate"]) == ("60000.00", "60000.00", "1350.00")
    assert (detail["opening"], detail["paid"], detail["closing"]) == ("20.00", "20.00", "1350.00")  # January paid
    assert [(line["rate"], line["base"], line["amount"]) for line in detail["rebate_lines"]] == [
        ("2", "50000.00", "1000.00"),
        ("3.5", "10000.00", "350.00"),
    ]
    assert detail["status"] == "unpaid"
    assert detail["tier"] == "Silver"
    assert detail["csv"] == "http://testserver/partner/statements/2026-02.csv"


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "abc", "2026-02x", "%00"])
def test_a_period_that_is_no_month_is_404(period: str) -> None:
    login = partner_with_login("AAA")
    statement_for_month(login.partner, "2026-02", ["100.00"])
    response = bearer(login.user).get(f"/api/v1/partner/statements/{period}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] in {"statement_not_found", "not_found"}


def test_the_api_reads_in_a_few_queries(django_assert_max_num_queries: Callable[..., Any]) -> None:
    login = partner_with_login("FEW")
    for period in ("2026-01", "2026-02", "2026-03"):
        statement_for_month(login.partner, period, ["100.00"])
    client = bearer(login.user)
    client.get("/api/v1/partner/statements")  # the token is verified once, then trusted from memory
    for url, ceiling in (
        ("/api/v1/partner/dashboard", 8),
        ("/api/v1/partner/statements", 2),
        ("/api/v1/partner/statements/2026-02", 3),
    ):
        with django_assert_max_num_queries(ceiling):
            assert client.get(url).status_code == 200, url
