"""POST /api/v1/partner/sales: signed by a key that may report sales; each line booked, duplicate or rejected."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from partners import services
from partners.builders import partner_build, tiers_build
from partners.models import ApiKey, Partner, Sale
from partners.signing import request_signature, signing_key_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/partner/sales"


@pytest.fixture
def partners() -> tuple[Partner, Partner]:
    tiers_build()
    return partner_build(code="DLR-A"), partner_build(code="DLR-B")


def key(*, reports_sales: bool = True, partner: Partner | None = None) -> tuple[ApiKey, str]:
    return services.api_key_create(name="ERP", reports_sales=reports_sales, partner=partner)


def post(api_key: tuple[ApiKey, str], body: Any) -> Any:
    key_obj, secret = api_key
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ts = str(int(timezone.now().timestamp()))
    signature = request_signature(signing_key=signing_key_for(secret), timestamp=ts, body=raw)
    return APIClient().post(
        URL,
        raw,
        content_type="application/json",
        HTTP_X_API_KEY=key_obj.key_id,
        HTTP_X_TIMESTAMP=ts,
        HTTP_X_SIGNATURE=signature,
    )


def line(external_id: str, amount: str = "1000.00", quantity: int = 2, **fields: Any) -> dict[str, Any]:
    sold = (timezone.now() - timedelta(hours=1)).isoformat()
    return {"external_id": external_id, "sold_at": sold, "quantity": quantity, "amount": amount, **fields}


def results(response: Any) -> list[tuple[str, str, str]]:
    return [(r["external_id"], r["status"], r["code"]) for r in response.json()["results"]]


def test_a_signed_line_is_booked_then_replayed_as_duplicate_and_other_content_is_a_conflict(partners):
    first, _second = partners
    api_key = key()
    sale = line("SO-1", partner="DLR-A", product="扫地机器人")
    response = post(api_key, sale)
    assert response.status_code == 200
    assert results(response) == [("SO-1", "booked", "")]
    assert response.json()["booked"] == 1
    booked = Sale.objects.get()
    assert (booked.partner, booked.amount, booked.quantity, booked.source, booked.api_key) == (
        first,
        1000,
        2,
        Sale.Source.API,
        api_key[0],
    )
    again = post(api_key, {"sales": [sale]})
    assert results(again) == [("SO-1", "duplicate", "")]
    changed = post(api_key, {"sales": [{**sale, "amount": "999.00"}]})
    assert results(changed) == [("SO-1", "rejected", "sale_conflict")]
    assert Sale.objects.count() == 1
    assert Sale.objects.get().amount == 1000


def test_a_key_that_may_not_report_sales_is_refused_403(partners):
    response = post(key(reports_sales=False), line("SO-1", partner="DLR-A"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "sales_not_allowed"
    assert not Sale.objects.exists()


def test_a_key_bound_to_a_partner_books_only_that_partners_sales(partners):
    first, second = partners
    api_key = key(partner=first)
    response = post(api_key, {"sales": [line("SO-1"), line("SO-2", partner="DLR-B"), line("SO-3", partner="DLR-A")]})
    assert response.status_code == 200
    assert results(response) == [
        ("SO-1", "booked", ""),
        ("SO-2", "rejected", "sales_not_allowed"),
        ("SO-3", "booked", ""),
    ]
    assert set(Sale.objects.values_list("partner_id", flat=True)) == {first.pk}
    assert not Sale.objects.filter(partner=second).exists()


def test_an_unbound_key_names_the_partner_in_each_line(partners):
    response = post(key(), {"sales": [line("SO-1"), line("SO-2", partner="NOPE"), line("SO-3", partner="DLR-B")]})
    assert results(response) == [
        ("SO-1", "rejected", "partner_not_found"),
        ("SO-2", "rejected", "partner_not_found"),
        ("SO-3", "booked", ""),
    ]


def test_a_return_larger_than_its_sale_is_rejected_and_a_smaller_one_booked(partners):
    api_key = key()
    post(api_key, line("SO-1", amount="1000.00", quantity=2, partner="DLR-A"))
    response = post(
        api_key,
        {
            "sales": [
                line("RT-1", amount="-1500.00", quantity=-1, original_id="SO-1", partner="DLR-A"),
                line("RT-2", amount="-500.00", quantity=-1, original_id="SO-1", partner="DLR-A"),
                line("RT-3", amount="-600.00", quantity=-1, original_id="SO-1", partner="DLR-A"),
            ]
        },
    )
    assert results(response) == [
        ("RT-1", "rejected", "return_exceeds_sale"),
        ("RT-2", "booked", ""),
        ("RT-3", "rejected", "return_exceeds_sale"),  # only 500.00 was left
    ]
    assert response.json()["results"][2]["details"]["left_amount"] == "500.00"
    original = Sale.objects.get(external_id="SO-1")
    assert (original.returned_amount, original.returned_quantity) == (500, 1)


def test_more_than_500_lines_is_413_and_nothing_is_booked(partners):
    response = post(key(), {"sales": [line(f"SO-{i}", partner="DLR-A") for i in range(501)]})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_many_sales"
    assert response.json()["error"]["details"] == {"max": 500, "received": 501}
    assert not Sale.objects.exists()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"sales": [', "syntax"),
        (b"\xff\xfe{}", "invalid_utf8"),
        (b'{"sales": ' + b"[" * 100 + b"]" * 100 + b"}", "too_deep"),
        (b'{"external_id": "a", "external_id": "b"}', "duplicate_key"),
    ],
)
def test_malformed_json_is_400_and_nothing_is_booked(partners, body, reason):
    response = post(key(), body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]["reason"]) == ("parse_error", reason)
    assert not Sale.objects.exists()


@pytest.mark.parametrize("body", [{}, [], {"sales": []}, {"sales": "x"}, "text"])
def test_an_empty_or_shapeless_batch_is_400_invalid_batch(partners, body):
    response = post(key(), body)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_batch")


def test_control_characters_reject_their_line_only(partners):
    response = post(
        key(),
        {
            "sales": [
                line("SO\x00-1", partner="DLR-A"),
                line("SO-\x1b2", partner="DLR-A"),
                line("SO-3", partner="DLR\x00-A"),
                line("RT-4", amount="-1.00", quantity=-1, original_id="SO\x07", partner="DLR-A"),
                line("SO-5", partner="DLR-A"),
            ]
        },
    )
    assert response.status_code == 200
    assert [(status, code) for _id, status, code in results(response)] == [
        ("rejected", "sale_invalid"),
        ("rejected", "sale_invalid"),
        ("rejected", "sale_invalid"),
        ("rejected", "sale_invalid"),
        ("booked", ""),
    ]
    assert list(Sale.objects.values_list("external_id", flat=True)) == ["SO-5"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"quantity": 0}, "sale_invalid"),
        ({"amount": "-5.00", "quantity": -1}, "sale_invalid"),  # negative without its original
        ({"currency": "USD"}, "currency_mismatch"),
        ({"amount": 12.5}, "sale_invalid"),  # a float: amounts are decimal text
        ({"amount": "1.005"}, "sale_invalid"),
        ({"sold_at": "yesterday"}, "sale_invalid"),
        ({"original_id": "NOPE", "amount": "-1.00", "quantity": -1}, "original_sale_not_found"),
    ],
)
def test_invalid_lines_are_rejected_with_their_code(partners, fields, code):
    response = post(key(), line("SO-1", partner="DLR-A") | fields)
    assert results(response) == [("SO-1", "rejected", code)]
    assert not Sale.objects.exists()


def test_a_line_sold_in_the_future_is_rejected(partners):
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = post(key(), line("SO-1", partner="DLR-A", sold_at=future))
    assert results(response) == [("SO-1", "rejected", "sale_invalid")]
    assert response.json()["results"][0]["details"] == {"sold_at": "in the future"}


def test_anonymous_and_unsigned_callers_are_401(partners):
    response = APIClient().post(URL, json.dumps(line("SO-1", partner="DLR-A")), content_type="application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "invalid_api_key")
    key_obj, _secret = key()
    forged = post((key_obj, "not-the-secret"), line("SO-1", partner="DLR-A"))
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "invalid_signature")
    assert not Sale.objects.exists()
