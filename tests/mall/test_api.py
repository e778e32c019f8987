"""The mall API (/api/v1/mall/...): categories, the catalogue and its filters, a product, placing orders (the
Idempotency-Key is the order's own key), the member's orders, cancelling and revealing a code — each endpoint, each
error code, and that refusals change nothing. Query ceilings are in test_hot_paths.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import address_save, token_issue
from campaigns.models import Campaign
from config import ratelimit
from mall.builders import category_build
from mall.models import Code, CodeReveal, Order, OrderStatus, Product
from points.selectors import balance_for
from shipments.models import Shipment
from shipments.services import shipment_transition
from tests.data import ADDRESS

pytestmark = pytest.mark.django_db

MALL = "/api/v1/mall"
ORDERS = f"{MALL}/orders"
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens there


def bearer(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).access}")
    return client


def spendable(user: User) -> int:
    return balance_for(user_id=user.pk).spendable


def stock(product: Product) -> int:
    return Product.objects.get(pk=product.pk).stock


def order(client: APIClient, product: Product, key: str | None = None, **body: Any) -> Any:
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(ORDERS, {"product_id": product.pk, **body}, format="json", **headers)


def full_code(order_id: int) -> str:
    """The order's code as stored (what only reveal-code may show)."""
    return Code.objects.values_list("code", flat=True).get(order__pk=order_id)


def shipment_of(order_id: int) -> int:
    shipment_id = Order.objects.get(pk=order_id).shipment_id
    assert shipment_id is not None
    return shipment_id


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"]
    return error


@pytest.fixture
def client(member: User) -> APIClient:
    return bearer(member)


@pytest.fixture
def other(make_user: Callable[..., User]) -> User:
    return make_user(display_name="Other")


# --- Categories -------------------------------------------------------------------------------------------------


def test_categories_are_a_tree_in_both_languages_for_anyone() -> None:
    books = category_build(slug="books", name="图书", name_en="Books", icon="📚", position=1)
    category_build(slug="novels", name="小说", name_en="Novels", parent=books)
    category_build(slug="food", name="美食", name_en="Food", position=2)
    category_build(slug="hidden", name="隐藏", name_en="Hidden", is_active=False)
    response = APIClient().get(f"{MALL}/categories")
    assert response.status_code == 200
    tree = response.json()
    assert [(c["slug"], c["name"], c["name_en"]) for c in tree] == [
        ("books", "图书", "Books"),
        ("food", "美食", "Food"),
    ]
    assert tree[0]["icon"] == "📚"
    assert [(c["slug"], c["parent_id"], c["children"]) for c in tree[0]["children"]] == [("novels", books.pk, [])]


# --- The catalogue ----------------------------------------------------------------------------------------------


def test_products_list_for_anyone_in_order_with_the_sale_state(product, campaign: Campaign) -> None:
    later = timezone.now() + timedelta(hours=3)
    second = product(name="电影票", name_en="Movie ticket", position=2, points_price=100, stock=5)
    first = product(name="健身课", name_en="Fitness class", position=1, delivery="code")
    drop = product(name="限量耳机", name_en="Headphones", position=3, delivery="physical", sale_starts_at=later)
    product(name="下架", name_en="Unlisted", is_active=False)
    response = APIClient().get(f"{MALL}/products")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [first.pk, second.pk, drop.pk]
    movie = rows[1]
    assert movie["name"] == "电影票"
    assert movie["name_en"] == "Movie ticket"
    assert movie["points_price"] == 100
    assert movie["stock"] == 5
    assert movie["in_stock"] is True
    assert movie["delivery"] == "instructions"
    assert movie["sale_state"] == "on_sale"
    assert movie["campaign"] == campaign.slug
    assert movie["image"] is None
    assert rows[2]["sale_state"] == "upcoming"
    assert rows[2]["sale_opens_at"] is not None
    assert rows[2]["physical_methods"] == "shipping"


def test_products_filter_by_category_with_its_children_and_by_name(product) -> None:
    books = category_build(slug="books")
    novels = category_build(slug="novels", name="小说", name_en="Novels", parent=books)
    food = category_build(slug="food", name="美食", name_en="Food")
    novel = product(name="三体", name_en="The Three-Body Problem", category=novels)
    guide = product(name="旅行指南", name_en="Travel guide", category=books)
    coupon = product(name="咖啡券", name_en="Coffee coupon", category=food)
    anyone = APIClient()

    def ids(**query: Any) -> list[int]:
        response = anyone.get(f"{MALL}/products", query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids(category=books.pk) == [novel.pk, guide.pk]
    assert ids(category=novels.pk) == [novel.pk]
    assert ids(category=food.pk) == [coupon.pk]
    assert ids(q="coffee") == [coupon.pk]
    assert ids(q="三体") == [novel.pk]
    assert ids(q="guide", category=food.pk) == []
    assert ids(category=10**12) == []


def test_affordable_needs_a_member_and_keeps_what_their_points_afford(member, client, fund, product) -> None:
    cheap = product(points_price=100)
    exact = product(points_price=250)
    product(points_price=251)
    fund(member.pk, 250)
    error = error_of(APIClient().get(f"{MALL}/products", {"affordable": "true"}), 401)
    assert error["code"] == "not_authenticated"
    response = client.get(f"{MALL}/products", {"affordable": "true"})
    assert [row["id"] for row in response.json()["results"]] == [cheap.pk, exact.pk]
    assert len(client.get(f"{MALL}/products", {"affordable": "false"}).json()["results"]) == 3


def test_products_pages_follow_signed_cursors_through_equal_positions(product) -> None:
    made = [product(name=f"商品{n}", name_en=f"Item {n}") for n in range(5)]  # all position 0
    anyone, seen, url = APIClient(), [], f"{MALL}/products?page_size=2"
    while url:
        page = anyone.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == [p.pk for p in made]
    first = anyone.get(f"{MALL}/products", {"page_size": 2}).json()
    cursor = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    assert error_of(anyone.get(f"{MALL}/products", {"cursor": cursor[:-2] + "xx"}), 400)["code"] == "invalid_cursor"
    assert error_of(anyone.get(f"{MALL}/products", {"category": "x"}), 400)["code"] == "validation_error"


# --- A product --------------------------------------------------------------------------------------------------


def test_a_product_for_anyone_and_with_the_members_usage(member, client, fund, product) -> None:
    item = product(points_price=100, stock=4, limit_per_member=3, limit_per_day=2, name_en="Movie ticket")
    anonymous = APIClient().get(f"{MALL}/products/{item.pk}")
    assert anonymous.status_code == 200
    body = anonymous.json()
    assert body["me"] is None
    assert (body["limit_per_member"], body["limit_per_day"], body["stock"]) == (3, 2, 4)
    fund(member.pk, 250)
    assert order(client, item, "one").status_code == 201
    mine = client.get(f"{MALL}/products/{item.pk}").json()
    assert mine["stock"] == 3
    assert mine["me"] == {
        "spendable": 150,
        "redeemed": 1,
        "redeemed_today": 1,
        "discount_percent": "0.00",
        "member_price": 100,
        "affordable": True,
    }


def test_an_unknown_or_unlisted_product_is_404(product) -> None:
    hidden = product(is_active=False)
    for product_id in (hidden.pk, 10**12):
        assert error_of(APIClient().get(f"{MALL}/products/{product_id}"), 404)["code"] == "product_not_found"


# --- Placing an order -------------------------------------------------------------------------------------------


def test_a_code_order_is_201_with_the_code_masked_and_the_balance(member, client, fund, product) -> None:
    fund(member.pk, 500)
    item = product(delivery="code", points_price=120, stock=3)
    response = order(client, item, "first")
    assert response.status_code == 201, response.content
    body = response.json()
    full = full_code(body["id"])
    assert body["status"] == "fulfilled"
    assert body["points"] == 120
    assert body["product_id"] == item.pk
    assert body["code_masked"].endswith(full[-4:])
    assert full not in response.content.decode()
    assert body["code_revealed"] is False
    assert body["replayed"] is False
    assert body["me"] == {"spendable": 380}
    assert body["created_at"]
    assert body["fulfilled_at"]
    assert body["cancelled_at"] is None
    assert spendable(member) == 380
    assert stock(item) == 2


def test_an_instructions_order_shows_them_in_both_languages(member, client, fund, product) -> None:
    fund(member.pk, 500)
    item = product(instructions="到店出示。", instructions_en="Show it at the counter.")
    body = order(client, item, "k").json()
    assert (body["instructions"], body["instructions_en"]) == ("到店出示。", "Show it at the counter.")
    assert body["code_masked"] == ""
    assert body["shipment"] is None
    assert body["cancellable"] is False


def test_goods_are_held_shipped_to_an_address_or_picked_up(member, client, fund, product) -> None:
    fund(member.pk, 1000)
    ship = product(delivery="physical", points_price=200)
    address = address_save(user=member, data=ADDRESS)
    body = order(client, ship, "ship", address_id=address.pk).json()
    assert body["status"] == "placed"
    assert body["method"] == "shipping"
    assert body["cancellable"] is True
    assert body["shipment"]["status"] == "ready"
    assert body["shipment"]["address_open"] is True
    assert Shipment.objects.get(pk=shipment_of(body["id"])).recipient == ADDRESS["recipient"]
    later = order(client, ship, "later").json()
    assert later["shipment"]["status"] == "awaiting_address"
    pickup = product(
        delivery="physical", physical_methods="both", pickup_location="南京路店", pickup_location_en="Nanjing Rd"
    )
    picked = order(client, pickup, "pick", method="pickup").json()
    assert picked["method"] == "pickup"
    assert picked["shipment"] is None
    assert len(picked["pickup_code"]) == 10
    assert (picked["pickup_location"], picked["pickup_location_en"]) == ("南京路店", "Nanjing Rd")


def test_the_same_key_replays_200_with_the_same_order_and_charges_once(member, client, fund, product) -> None:
    fund(member.pk, 500)
    item = product(delivery="code", points_price=100)
    first = order(client, item, "same-key")
    again = order(client, item, "same-key")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["replayed"] is True
    assert again.json()["code_masked"] == first.json()["code_masked"]
    assert again.json()["me"] == {"spendable": 400}
    assert spendable(member) == 400
    assert stock(item) == 9
    assert Order.objects.count() == 1
    other_item = product(points_price=10)
    error = error_of(order(client, other_item, "same-key"), 422)
    assert error["code"] == "idempotency_key_reused"
    assert spendable(member) == 400
    assert Order.objects.count() == 1
    # Without a key every request is a new order; a key the order cannot keep is refused before anything.
    assert order(client, item).status_code == 201
    assert order(client, item).status_code == 201
    assert error_of(order(client, item, "k" * 101), 400)["code"] == "invalid_idempotency_key"
    assert Order.objects.count() == 3


def test_insufficient_points_with_spendable_and_price_changes_nothing(member, client, fund, product) -> None:
    fund(member.pk, 150)
    item = product(points_price=200, stock=2)
    error = error_of(order(client, item, "poor"), 422)
    assert error["code"] == "insufficient_points"
    assert error["details"] == {"spendable": 150, "price": 200}
    assert spendable(member) == 150
    assert stock(item) == 2
    assert not Order.objects.exists()


def test_out_of_stock_limit_and_not_on_sale(member, client, fund, product) -> None:
    fund(member.pk, 5000)
    sold_out = product(stock=0)
    assert error_of(order(client, sold_out, "a"), 409)["code"] == "out_of_stock"
    once = product(limit_per_member=1)
    assert order(client, once, "b").status_code == 201
    error = error_of(order(client, once, "c"), 422)
    assert (error["code"], error["details"]) == ("limit_reached", {"limit": "member", "max": 1})
    drop = product(sale_starts_at=timezone.now() + timedelta(hours=1))
    assert error_of(order(client, drop, "d"), 422)["code"] == "not_available"
    assert stock(drop) == 10
    assert stock(once) == 9
    assert spendable(member) == 4900


def test_an_empty_code_pool_is_out_of_stock_before_any_debit(member, client, fund, product) -> None:
    fund(member.pk, 500)
    item = product(delivery="code", stock=5)
    Code.objects.filter(pool_id=item.code_pool_id).delete()
    assert error_of(order(client, item, "empty"), 409)["code"] == "out_of_stock"
    assert spendable(member) == 500
    assert stock(item) == 5


def test_delivery_method_address_product_and_body_errors(member, other, client, fund, product) -> None:
    fund(member.pk, 5000)
    plain = product()
    goods = product(delivery="physical", physical_methods="shipping")
    assert error_of(order(client, plain, "m1", method="pickup"), 400)["code"] == "delivery_method_invalid"
    assert error_of(order(client, goods, "m2", method="pickup"), 400)["code"] == "delivery_method_invalid"
    theirs = address_save(user=other, data=ADDRESS)
    assert error_of(order(client, goods, "m3", address_id=theirs.pk), 400)["code"] == "address_required"
    missing = client.post(ORDERS, {"product_id": 10**12}, format="json")
    assert error_of(missing, 404)["code"] == "product_not_found"
    invalid = client.post(ORDERS, {"method": "drone"}, format="json")
    error = error_of(invalid, 400)
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"product_id", "method"}
    assert error_of(APIClient().post(ORDERS, {"product_id": plain.pk}, format="json"), 401)
    assert not Order.objects.exists()
    assert spendable(member) == 5000


def test_orders_are_rate_limited_and_refused_while_redis_is_down(member, client, fund, product, settings) -> None:
    fund(member.pk, 5000)
    item = product(points_price=10)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "order": "2/min"}
    assert [order(client, item, f"r{n}").status_code for n in range(3)] == [201, 201, 429]
    assert error_of(order(client, item, "r3"), 429)["code"] == "rate_limited"
    settings.RATELIMIT_REDIS_URL = DEAD_REDIS
    ratelimit._clients.clear()
    try:
        refused = order(client, item, "down")
        assert error_of(refused, 503)["code"] == "service_unavailable"
        assert refused["Retry-After"]
    finally:
        ratelimit._clients.clear()
    assert Order.objects.count() == 2
    assert spendable(member) == 4980


# --- My orders --------------------------------------------------------------------------------------------------


def test_my_orders_newest_first_codes_masked_only_mine(member, other, client, fund, product) -> None:
    fund(member.pk, 5000)
    fund(other.pk, 5000)
    coded = product(delivery="code")
    goods = product(delivery="physical")
    first = order(client, coded, "1").json()
    second = order(client, goods, "2").json()
    order(bearer(other), coded, "theirs")
    response = client.get(ORDERS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [second["id"], first["id"]]
    assert rows[1]["code_masked"] == first["code_masked"]
    assert rows[1]["instructions"] == ""
    assert rows[0]["shipment"]["status"] == "awaiting_address"
    assert rows[0]["cancellable"] is True
    full = full_code(first["id"])
    assert full not in response.content.decode()
    page = client.get(ORDERS, {"page_size": 1}).json()
    assert [row["id"] for row in page["results"]] == [second["id"]]
    assert page["next"]


def test_an_order_is_its_members_only(member, other, client, fund, product) -> None:
    fund(member.pk, 500)
    mine = order(client, product(delivery="code"), "k").json()
    response = client.get(f"{ORDERS}/{mine['id']}")
    assert response.status_code == 200
    assert response.json()["code_masked"] == mine["code_masked"]
    assert "replayed" not in response.json()
    for who in (bearer(other),):
        assert error_of(who.get(f"{ORDERS}/{mine['id']}"), 404)["code"] == "order_not_found"
    assert error_of(client.get(f"{ORDERS}/{10**12}"), 404)["code"] == "order_not_found"
    assert error_of(APIClient().get(f"{ORDERS}/{mine['id']}"), 401)


# --- Cancelling -------------------------------------------------------------------------------------------------


def test_a_member_cancels_goods_before_they_ship_once(member, other, client, fund, product) -> None:
    fund(member.pk, 1000)
    goods = product(delivery="physical", points_price=300, stock=2)
    placed = order(client, goods, "g").json()
    assert spendable(member) == 700
    assert stock(goods) == 1
    assert error_of(bearer(other).post(f"{ORDERS}/{placed['id']}/cancel"), 404)["code"] == "order_not_found"
    assert spendable(member) == 700
    response = client.post(f"{ORDERS}/{placed['id']}/cancel")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "refunded"
    assert body["cancelled_at"]
    assert body["cancellable"] is False
    assert body["shipment"]["status"] == "cancelled"
    assert spendable(member) == 1000
    assert stock(goods) == 2
    again = client.post(f"{ORDERS}/{placed['id']}/cancel")
    assert again.status_code == 200
    assert again.json()["status"] == "refunded"
    assert spendable(member) == 1000
    assert stock(goods) == 2


def test_codes_and_shipped_goods_are_not_cancellable(member, client, fund, product) -> None:
    fund(member.pk, 1000)
    coded = order(client, product(delivery="code"), "c").json()
    assert error_of(client.post(f"{ORDERS}/{coded['id']}/cancel"), 409)["code"] == "not_cancellable"
    address = address_save(user=member, data=ADDRESS)
    goods = order(client, product(delivery="physical"), "g", address_id=address.pk).json()
    shipment_transition(
        shipment_id=shipment_of(goods["id"]), to="shipped", carrier="SF", tracking_number="SF1", now=timezone.now()
    )
    shown = client.get(f"{ORDERS}/{goods['id']}").json()
    assert shown["status"] == "fulfilled"
    assert shown["cancellable"] is False
    assert (shown["shipment"]["status"], shown["shipment"]["tracking_number"]) == ("shipped", "SF1")
    assert shown["shipment"]["shipped_at"]
    assert shown["fulfilled_at"]
    assert error_of(client.post(f"{ORDERS}/{goods['id']}/cancel"), 409)["code"] == "not_cancellable"
    assert Order.objects.filter(status=OrderStatus.REFUNDED).count() == 0
    assert spendable(member) == 800


# --- Revealing a code -------------------------------------------------------------------------------------------


def test_reveal_shows_the_code_and_logs_it(member, other, client, fund, product) -> None:
    fund(member.pk, 1000)
    placed = order(client, product(delivery="code"), "c").json()
    full = full_code(placed["id"])
    url = f"{ORDERS}/{placed['id']}/reveal-code"
    assert error_of(bearer(other).post(url), 404)["code"] == "order_not_found"
    assert not CodeReveal.objects.exists()
    response = client.post(url, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    assert response.json() == {"order_id": placed["id"], "code": full}
    reveal = CodeReveal.objects.get()
    assert (reveal.user_id, reveal.ip) == (member.pk, "203.0.113.9")
    assert client.get(f"{ORDERS}/{placed['id']}").json()["code_revealed"] is True
    assert client.post(url).status_code == 200
    assert CodeReveal.objects.count() == 2
    plain = order(client, product(), "p").json()
    assert error_of(client.post(f"{ORDERS}/{plain['id']}/reveal-code"), 404)["code"] == "code_not_found"
    assert error_of(APIClient().post(url), 401)


def test_reveals_are_rate_limited_and_refused_while_redis_is_down(member, client, fund, product, settings) -> None:
    fund(member.pk, 1000)
    placed = order(client, product(delivery="code"), "c").json()
    url = f"{ORDERS}/{placed['id']}/reveal-code"
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "code_reveal": "1/min"}
    assert [client.post(url).status_code for _ in range(2)] == [200, 429]
    settings.RATELIMIT_REDIS_URL = DEAD_REDIS
    ratelimit._clients.clear()
    try:
        assert error_of(client.post(url), 503)["code"] == "service_unavailable"
    finally:
        ratelimit._clients.clear()
    assert CodeReveal.objects.count() == 1


# --- The bodies built as dicts match the documented schema ------------------------------------------------------


def _json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema node as JSON Schema: `nullable` as a null alternative, component references under
    $defs, and no properties beyond the declared ones (a body must not carry anything the schema does not say)."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _json_schema(value) for key, value in node.items() if key not in {"nullable", "readOnly"}}
    if "$ref" in out:
        out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/$defs/")
    if "properties" in node and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return {"anyOf": [out, {"type": "null"}]} if node.get("nullable") else out


def assert_documented(openapi: dict[str, Any], method: str, path: str, response: Any) -> None:
    operation = openapi["paths"][path][method]
    documented = operation["responses"][str(response.status_code)]["content"]["application/json"]["schema"]
    schema = {**_json_schema(documented), "$defs": _json_schema(openapi["components"]["schemas"])}
    jsonschema.Draft202012Validator(schema).validate(response.json())


def test_every_mall_body_is_what_the_schema_documents(member, client, fund, product) -> None:
    openapi = SchemaGenerator().get_schema(request=None, public=True)
    fund(member.pk, 5000)
    books = category_build(slug="books")
    category_build(slug="novels", name="小说", name_en="Novels", parent=books)
    items = {
        delivery: product(delivery=delivery, points_price=10, limit_per_day=5)
        for delivery in ("code", "instructions", "physical", "virtual")
    }
    pickup = product(delivery="physical", physical_methods="pickup", pickup_location="店", pickup_location_en="Shop")
    address = address_save(user=member, data=ADDRESS)
    calls: list[tuple[str, str, Any]] = [
        ("get", "/api/v1/mall/categories", APIClient().get(f"{MALL}/categories")),
        ("get", "/api/v1/mall/products", APIClient().get(f"{MALL}/products", {"page_size": 2})),
        ("get", "/api/v1/mall/products", client.get(f"{MALL}/products", {"affordable": "true"})),
        ("get", "/api/v1/mall/products/{product_id}", APIClient().get(f"{MALL}/products/{pickup.pk}")),
        ("get", "/api/v1/mall/products/{product_id}", client.get(f"{MALL}/products/{pickup.pk}")),
        ("post", "/api/v1/mall/orders", order(client, pickup, "pickup")),
        ("post", "/api/v1/mall/orders", order(client, items["physical"], "ship", address_id=address.pk)),
        ("post", "/api/v1/mall/orders", order(client, items["physical"], "ship")),  # a replay: 200
    ]
    placed = [order(client, item, delivery) for delivery, item in items.items()]
    calls += [("post", "/api/v1/mall/orders", response) for response in placed]
    code_order, goods_order = placed[0].json()["id"], placed[2].json()["id"]
    calls += [
        ("get", "/api/v1/mall/orders", client.get(ORDERS)),
        ("get", "/api/v1/mall/orders/{order_id}", client.get(f"{ORDERS}/{goods_order}")),
        ("post", "/api/v1/mall/orders/{order_id}/cancel", client.post(f"{ORDERS}/{goods_order}/cancel")),
        ("post", "/api/v1/mall/orders/{order_id}/reveal-code", client.post(f"{ORDERS}/{code_order}/reveal-code")),
        ("post", "/api/v1/mall/orders", order(client, items["code"], "x" * 101)),  # an error body
    ]
    assert sorted({response.status_code for _m, _p, response in calls}) == [200, 201, 400]
    for method, path, response in calls:
        assert_documented(openapi, method, path, response)
