"""The mall's hot paths (issue 13, built as issue 12 asks): query ceilings for the catalogue, a product and an order
with a real bearer token, requests as in production (no surrounding transaction), authentication included (it costs
no query: the token is trusted from memory after the first request, ADR 0007). docs/performance.md lists them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import token_issue
from mall.builders import category_build
from mall.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

MALL = "/api/v1/mall"


def bearer(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).access}")
    return client


def test_a_catalogue_page_is_one_query_whatever_the_filters(member, fund, product, django_assert_max_num_queries):
    books = category_build(slug="books")
    novels = category_build(slug="novels", name="小说", name_en="Novels", parent=books)
    for n in range(30):
        product(name=f"商品{n}", name_en=f"Item {n}", points_price=10 + n, category=novels if n % 2 else books)
    fund(member.pk, 25)
    client = bearer(member)
    url = f"{MALL}/products"
    assert client.get(url).status_code == 200  # warm-up: the token checked once, then trusted from memory
    with django_assert_max_num_queries(1):
        page = client.get(url)
    assert page.status_code == 200
    assert len(page.json()["results"]) == 20
    with django_assert_max_num_queries(1):
        following = client.get(page.json()["next"])
    assert len(following.json()["results"]) == 10
    query = {"category": str(books.pk), "affordable": "true", "q": "Item", "page_size": "100"}
    with django_assert_max_num_queries(1):
        filtered = client.get(url, query)
    assert filtered.status_code == 200
    assert [row["points_price"] for row in filtered.json()["results"]] == list(range(10, 26))  # 25 points
    with django_assert_max_num_queries(1):
        anonymous = APIClient().get(url, {"category": novels.pk})
    assert len(anonymous.json()["results"]) == 15


def test_a_product_is_one_query_with_the_members_usage(member, fund, product, django_assert_max_num_queries):
    item = product(points_price=100, limit_per_member=2, limit_per_day=1)
    fund(member.pk, 500)
    client = bearer(member)
    assert client.post(f"{MALL}/orders", {"product_id": item.pk}, format="json").status_code == 201
    with django_assert_max_num_queries(1):
        response = client.get(f"{MALL}/products/{item.pk}")
    assert response.status_code == 200
    assert response.json()["me"] == {
        "spendable": 400,
        "redeemed": 1,
        "redeemed_today": 1,
        "discount_percent": "0.00",
        "member_price": 100,
        "affordable": True,
    }
    with django_assert_max_num_queries(1):
        assert APIClient().get(f"{MALL}/products/{item.pk}").json()["me"] is None


def test_an_order_is_one_query_two_for_goods_that_ship(member, fund, product, django_assert_max_num_queries):
    """The order is one SQL call (mall_order_place(), which returns the order row and its code); the product's
    instructions come from the configuration cache (mall.selectors.product_texts), and goods that ship read their
    shipment. A replay costs the same."""
    coded = product(delivery="code", points_price=10, stock=100)
    goods = product(delivery="physical", points_price=10, stock=100)
    fund(member.pk, 1000)
    client = bearer(member)
    orders = f"{MALL}/orders"
    for item in (coded, goods):  # warm-up: the token, the product's texts
        assert client.post(orders, {"product_id": item.pk}, format="json").status_code == 201
    with django_assert_max_num_queries(1):
        response = client.post(orders, {"product_id": coded.pk}, format="json", HTTP_IDEMPOTENCY_KEY="one")
    assert response.status_code == 201, response.content
    assert response.json()["code_masked"]
    with django_assert_max_num_queries(2):
        response = client.post(orders, {"product_id": goods.pk}, format="json", HTTP_IDEMPOTENCY_KEY="two")
    assert response.status_code == 201, response.content
    assert response.json()["shipment"]["status"] == "awaiting_address"
    with django_assert_max_num_queries(2):
        replay = client.post(orders, {"product_id": goods.pk}, format="json", HTTP_IDEMPOTENCY_KEY="two")
    assert replay.status_code == 200
    assert replay.json()["id"] == response.json()["id"]
    assert Order.objects.count() == 4
