"""Member pages of the mall and the staff pickup page through Django's test client: the catalogue and its filters,
a product, the confirm sheet (one order per one-time token), an order's result (code revealed on demand, pickup code
with its QR, shipment), My redemptions with cancel and the address, the pickup page; errors as messages with
nothing changed; query ceilings."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import User
from accounts.services import address_save
from campaigns.models import Campaign
from mall.builders import category_build
from mall.models import CodeReveal, Order, OrderStatus, Product
from mall.orders import order_place
from points.selectors import balance_for
from shipments.models import Shipment
from shipments.rules import ShipmentStatus
from shipments.services import shipment_transition
from tests.data import ADDRESS
from tests.test_csp import inline_parts

pytestmark = pytest.mark.django_db

CATALOGUE = "/mall/"
REDEMPTIONS = "/me/redemptions/"
PICKUP = "/staff/pickup/"


def t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def client_for(user: User | None = None, language: str = "en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
    return client


def spendable(user_id: int) -> int:
    return balance_for(user_id=user_id).spendable


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def token_of(html: str) -> str:
    match = re.search(r'name="token" value="([0-9a-f]{32})"', html)
    assert match, "the confirm sheet renders a one-time token"
    return match.group(1)


def names_on(response: Any) -> list[str]:
    return [card["name_en"] for card in response.context["cards"]]


@pytest.fixture
def shelf(product: Callable[..., Product]) -> dict[str, Product]:
    """Four products over two categories: cheap and dear books, a movie ticket drop that opens later, and a sold-out
    food coupon."""
    movies = category_build(slug="movies", name="电影票", name_en="Movie tickets", position=2)
    food = category_build(slug="food", name="美食券", name_en="Food coupons", position=3)
    now = timezone.now()
    return {
        "cheap": product(name="小说", name_en="Novel", points_price=100, stock=5),
        "dear": product(name="精装百科全书", name_en="Encyclopedia", points_price=5000, stock=2),
        "drop": product(
            name="首映票", name_en="Premiere ticket", category=movies, sale_starts_at=now + timedelta(hours=2)
        ),
        "gone": product(name="火锅券", name_en="Hotpot coupon", category=food, stock=0),
    }


# --- Catalogue and product ------------------------------------------------------------------------------


def test_catalogue_shows_products_to_anyone_with_price_stock_drops_and_sold_out(shelf: dict[str, Product]) -> None:
    response = client_for().get(CATALOGUE)
    assert response.status_code == 200
    assert names_on(response) == ["Novel", "Encyclopedia", "Premiere ticket", "Hotpot coupon"]
    html = response.content.decode()
    assert 'data-testid="product-upcoming"' in html
    assert "On sale at" in html
    assert 'data-testid="product-sold-out"' in html
    assert response.context["balance"] is None
    assert 'data-testid="filter-affordable"' not in html  # the filter is a member's
    assert 'data-testid="login-to-redeem"' not in html


def test_catalogue_in_chinese_shows_chinese_names(shelf: dict[str, Product]) -> None:
    html = client_for(language="zh-hans").get(CATALOGUE).content.decode()
    assert "精装百科全书" in html
    assert "Encyclopedia" not in html


def test_catalogue_filters_by_category_search_and_what_my_points_buy(
    member: User, fund: Callable[[int, int], None], shelf: dict[str, Product]
) -> None:
    fund(member.pk, 300)
    client = client_for(member)
    assert names_on(client.get(CATALOGUE, {"category": "movies"})) == ["Premiere ticket"]
    assert names_on(client.get(CATALOGUE, {"q": "ency"})) == ["Encyclopedia"]
    assert names_on(client.get(CATALOGUE, {"q": "百科"})) == ["Encyclopedia"]
    affordable = client.get(CATALOGUE, {"affordable": "1"})
    assert affordable.context["balance"] == 300
    assert "Encyclopedia" not in names_on(affordable)
    assert "Novel" in names_on(affordable)
    chips = {chip["slug"]: chip for chip in client.get(CATALOGUE, {"category": "movies"}).context["chips"]}
    assert chips["movies"]["current"]
    assert not chips[""]["current"]
    # Unknown filters show everything rather than an error.
    assert len(names_on(client.get(CATALOGUE, {"category": "nope", "page": "x"}))) == 4
    empty = client.get(CATALOGUE, {"q": "nothing like this"})
    assert 'data-testid="no-products"' in empty.content.decode()


def test_affordable_filter_is_ignored_for_visitors(shelf: dict[str, Product]) -> None:
    assert len(names_on(client_for().get(CATALOGUE, {"affordable": "1"}))) == 4


def test_catalogue_pages_through_many_products(product: Callable[..., Product]) -> None:
    for i in range(30):
        product(name=f"书{i}", name_en=f"Book {i}", position=i)
    first = client_for().get(CATALOGUE)
    assert len(first.context["cards"]) == 24
    second = client_for().get(CATALOGUE + first.context["next_url"])
    assert names_on(second) == [f"Book {i}" for i in range(24, 30)]
    assert not second.context["next_url"]


def test_product_page_shows_delivery_limits_and_what_the_member_used(
    member: User, fund: Callable[[int, int], None], product: Callable[..., Product]
) -> None:
    fund(member.pk, 1000)
    item = product(
        delivery="physical",
        physical_methods="both",
        pickup_location="南京路 1 号门店",
        pickup_location_en="Store at 1 Nanjing Road",
        description="精美礼品",
        description_en="A fine gift",
        limit_per_member=3,
        limit_per_day=2,
    )
    order_place(product_id=item.pk, user_id=member.pk, request_key="first", method="pickup")
    response = client_for(member).get(f"/mall/p/{item.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "A fine gift" in html
    assert "Store at 1 Nanjing Road" in html
    assert response.context["usage"] == {"all": 1, "today": 1}
    assert response.context["limit_left"] == 1
    assert f'href="/mall/p/{item.pk}/redeem/"' in html
    anonymous = client_for().get(f"/mall/p/{item.pk}/").content.decode()
    assert 'data-testid="login-to-redeem"' in anonymous


def test_product_page_of_an_unlisted_or_unknown_product_is_404(product: Callable[..., Product]) -> None:
    hidden = product(is_active=False)
    assert client_for().get(f"/mall/p/{hidden.pk}/").status_code == 404
    assert client_for().get("/mall/p/987654321/").status_code == 404


def test_product_page_says_why_a_member_cannot_redeem(
    member: User, fund: Callable[[int, int], None], shelf: dict[str, Product]
) -> None:
    fund(member.pk, 300)
    client = client_for(member)
    dear = client.get(f"/mall/p/{shelf['dear'].pk}/").content.decode()
    assert t("en", "Not enough points") in dear
    assert 'href="/mall/p/' not in dear.split('data-testid="product-action"')[1]
    assert t("en", "Sold out") in client.get(f"/mall/p/{shelf['gone'].pk}/").content.decode()
    assert t("en", "Not on sale yet") in client.get(f"/mall/p/{shelf['drop'].pk}/").content.decode()


# --- The confirm sheet and ordering ----------------------------------------------------------------------


def test_redeeming_through_the_confirm_sheet_places_one_order_per_token(
    member: User, fund: Callable[[int, int], None], product: Callable[..., Product]
) -> None:
    fund(member.pk, 500)
    item = product(delivery="code", points_price=120, stock=3)
    client = client_for(member)
    sheet = client.get(f"/mall/p/{item.pk}/redeem/")
    assert sheet.status_code == 200
    assert sheet.context["balance_after"] == 380
    token = token_of(sheet.content.decode())
    first = client.post(f"/mall/p/{item.pk}/redeem/", {"token": token})
    order = Order.objects.get(user=member)
    assert first.status_code == 302
    assert first["Location"] == f"/mall/orders/{order.pk}/"
    again = client.post(f"/mall/p/{item.pk}/redeem/", {"token": token}, follow=True)  # a double submit
    assert Order.objects.filter(user=member).count() == 1
    assert t("en", "This order was already placed; here it is.") in messages_of(again)
    assert spendable(member.pk) == 380
    assert Product.objects.get(pk=item.pk).stock == 2


def test_refusals_are_messages_and_change_nothing(
    member: User, fund: Callable[[int, int], None], shelf: dict[str, Product], product: Callable[..., Product]
) -> None:
    fund(member.pk, 300)
    client = client_for(member)
    dear = shelf["dear"]
    sheet = client.get(f"/mall/p/{dear.pk}/redeem/")
    assert 'data-testid="confirm-short"' in sheet.content.decode()
    response = client.post(f"/mall/p/{dear.pk}/redeem/", {"token": token_of(sheet.content.decode())}, follow=True)
    assert response.redirect_chain[-1][0] == f"/mall/p/{dear.pk}/"
    assert any("you can spend 300" in m for m in messages_of(response))
    gone = client.post(f"/mall/p/{shelf['gone'].pk}/redeem/", {"token": "a" * 32}, follow=True)
    assert t("en", "Sorry, this item is sold out.") in messages_of(gone)
    drop = client.post(f"/mall/p/{shelf['drop'].pk}/redeem/", {"token": "b" * 32}, follow=True)
    assert t("en", "This item is not on sale now.") in messages_of(drop)
    both = product(delivery="physical", physical_methods="both", pickup_location="门店", pickup_location_en="Store")
    no_method = client.post(f"/mall/p/{both.pk}/redeem/", {"token": "c" * 32}, follow=True)
    assert messages_of(no_method)
    assert not Order.objects.exists()
    assert spendable(member.pk) == 300
    assert Product.objects.get(pk=dear.pk).stock == 2
    # The sheet itself is not offered for what cannot be redeemed.
    closed = client.get(f"/mall/p/{shelf['gone'].pk}/redeem/", follow=True)
    assert closed.redirect_chain[-1][0] == f"/mall/p/{shelf['gone'].pk}/"


def test_the_confirm_sheet_needs_a_member(shelf: dict[str, Product]) -> None:
    response = client_for().get(f"/mall/p/{shelf['cheap'].pk}/redeem/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client_for().post(f"/mall/p/{shelf['cheap'].pk}/redeem/", {"token": "x" * 32}).status_code == 302
    assert not Order.objects.exists()


def test_goods_to_ship_to_a_saved_address_or_to_pick_up(
    member: User, fund: Callable[[int, int], None], product: Callable[..., Product]
) -> None:
    fund(member.pk, 1000)
    address = address_save(user=member, data=ADDRESS)
    item = product(delivery="physical", physical_methods="both", pickup_location="门店", pickup_location_en="Store")
    client = client_for(member)
    sheet = client.get(f"/mall/p/{item.pk}/redeem/")
    html = sheet.content.decode()
    assert 'data-testid="method-choices"' in html
    assert 'data-testid="saved-address"' in html
    client.post(
        f"/mall/p/{item.pk}/redeem/", {"token": token_of(html), "method": "shipping", "address": str(address.pk)}
    )
    shipped = Order.objects.get(user=member, method="shipping")
    assert Shipment.objects.get(pk=shipped.shipment_id).status == ShipmentStatus.READY
    html = client.get(f"/mall/p/{item.pk}/redeem/").content.decode()
    picked = client.post(
        f"/mall/p/{item.pk}/redeem/", {"token": token_of(html), "method": "pickup", "address": str(address.pk)}
    )
    pickup = Order.objects.get(user=member, method="pickup")
    assert pickup.pickup_code
    page = client.get(picked["Location"]).content.decode()
    assert pickup.pickup_code in page
    assert '<svg class="qr"' in page
    assert 'data-testid="pickup-qr"' in page


# --- Order pages --------------------------------------------------------------------------------------------


def test_code_is_masked_until_revealed_and_each_reveal_is_logged(
    member: User, make_user: Callable[..., User], fund: Callable[[int, int], None], product: Callable[..., Product]
) -> None:
    fund(member.pk, 500)
    order = order_place(product_id=product(delivery="code").pk, user_id=member.pk, request_key="k").order
    client = client_for(member)
    page = client.get(f"/mall/orders/{order.pk}/")
    html = page.content.decode()
    assert order.code.code not in html
    assert order.code.code[-4:] in html
    assert 'data-testid="reveal-button"' in html
    revealed = client.post(f"/mall/orders/{order.pk}/reveal/")
    assert revealed.status_code == 200
    assert order.code.code in revealed.content.decode()
    assert CodeReveal.objects.filter(order=order).count() == 1
    listed = client.get(REDEMPTIONS).content.decode()
    assert order.code.code not in listed
    assert order.code.code[-4:] in listed
    # Another member: not found, nothing logged.
    other = client_for(make_user())
    assert other.get(f"/mall/orders/{order.pk}/").status_code == 404
    assert other.post(f"/mall/orders/{order.pk}/reveal/").status_code == 404
    assert CodeReveal.objects.filter(order=order).count() == 1


def test_order_page_shows_instructions_in_the_members_language(
    member: User, fund: Callable[[int, int], None], product: Callable[..., Product]
) -> None:
    fund(member.pk, 500)
    order = order_place(product_id=product().pk, user_id=member.pk, request_key="k").order
    assert "Show this at the counter." in client_for(member).get(f"/mall/orders/{order.pk}/").content.decode()
    zh = client_for(member, language="zh-hans").get(f"/mall/orders/{order.pk}/").content.decode()
    assert "到店出示即可使用。" in zh


def test_member_cancels_goods_not_yet_shipped_and_gets_the_points_back(
    member: User, make_user: Callable[..., User], fund: Callable[[int, int], None], product: Callable[..., Product]
) -> None:
    fund(member.pk, 500)
    goods = order_place(product_id=product(delivery="physical", points_price=200).pk, user_id=member.pk).order
    code = order_place(product_id=product(delivery="code", points_price=50).pk, user_id=member.pk).order
    assert spendable(member.pk) == 250
    client = client_for(member)
    listed = client.get(REDEMPTIONS)
    rows = {row.order.pk: row for row in listed.context["rows"]}
    assert rows[goods.pk].can_cancel
    assert not rows[code.pk].can_cancel
    assert client_for(make_user()).post(f"/mall/orders/{goods.pk}/cancel/").status_code == 404
    refused = client.post(f"/mall/orders/{code.pk}/cancel/", follow=True)
    assert t("en", "This order can no longer be cancelled.") in messages_of(refused)
    response = client.post(f"/mall/orders/{goods.pk}/cancel/", follow=True)
    assert response.redirect_chain[-1][0] == REDEMPTIONS
    assert Order.objects.get(pk=goods.pk).status == OrderStatus.REFUNDED
    assert Order.objects.get(pk=code.pk).status == OrderStatus.FULFILLED
    assert spendable(member.pk) == 450


def test_shipped_goods_cannot_be_cancelled(
    member: User, fund: Callable[[int, int], None], product: Callable[..., Product]
) -> None:
    fund(member.pk, 500)
    address = address_save(user=member, data=ADDRESS)
    order = order_place(product_id=product(delivery="physical").pk, user_id=member.pk, address_id=address.pk).order
    shipped, now = ShipmentStatus.SHIPPED, timezone.now()
    shipment_transition(shipment_id=order.shipment_id, to=shipped, carrier="SF", tracking_number="SF1", now=now)
    client = client_for(member)
    page = client.get(f"/mall/orders/{order.pk}/").content.decode()
    assert "SF1" in page
    assert 'data-testid="cancel-box"' not in page
    refused = client.post(f"/mall/orders/{order.pk}/cancel/", follow=True)
    assert t("en", "This order can no longer be cancelled.") in messages_of(refused)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.FULFILLED


def test_member_gives_the_address_of_goods_waiting_for_one(
    member: User, make_user: Callable[..., User], fund: Callable[[int, int], None], product: Callable[..., Product]
) -> None:
    fund(member.pk, 500)
    order = order_place(product_id=product(delivery="physical").pk, user_id=member.pk).order
    client = client_for(member)
    listed = client.get(REDEMPTIONS).content.decode()
    assert f'href="/mall/orders/{order.pk}/address/"' in listed
    assert client_for(make_user()).get(f"/mall/orders/{order.pk}/address/").status_code == 404
    bad = client.post(f"/mall/orders/{order.pk}/address/", {**ADDRESS, "address": "new", "phone": "12"})
    assert bad.status_code == 200
    assert bad.context["form"].errors
    assert Shipment.objects.get(pk=order.shipment_id).status == ShipmentStatus.AWAITING_ADDRESS
    assert not member.addresses.exists()  # a refused order address keeps no new address either
    done = client.post(f"/mall/orders/{order.pk}/address/", {**ADDRESS, "address": "new"})
    assert done.status_code == 302
    shipment = Shipment.objects.get(pk=order.shipment_id)
    assert shipment.status == ShipmentStatus.READY
    assert shipment.recipient == ADDRESS["recipient"]


def test_my_redemptions_lists_only_my_orders(
    member: User, make_user: Callable[..., User], fund: Callable[[int, int], None], product: Callable[..., Product]
) -> None:
    other = make_user()
    fund(member.pk, 500)
    fund(other.pk, 500)
    item = product(name="我的书", name_en="My book")
    order_place(product_id=item.pk, user_id=member.pk)
    order_place(product_id=product(name="别人的书", name_en="Their book").pk, user_id=other.pk)
    html = client_for(member).get(REDEMPTIONS).content.decode()
    assert "My book" in html
    assert "Their book" not in html
    assert client_for().get(REDEMPTIONS).status_code == 302
    empty = client_for(make_user()).get(REDEMPTIONS).content.decode()
    assert 'data-testid="no-redemptions"' in empty


# --- Staff pickup -----------------------------------------------------------------------------------------


@pytest.fixture
def pickup_order(member: User, fund: Callable[[int, int], None], product: Callable[..., Product]) -> Order:
    fund(member.pk, 500)
    item = product(delivery="physical", physical_methods="pickup", pickup_location="门店", pickup_location_en="Store")
    return order_place(product_id=item.pk, user_id=member.pk, method="pickup").order


def test_staff_verify_a_pickup_once(pickup_order: Order, operator: tuple[User, Client], member: User) -> None:
    staff_user, client = operator
    assert client.get(PICKUP).status_code == 200
    code = pickup_order.pickup_code
    assert code is not None
    ok = client.post(PICKUP, {"code": f" {code[:5].lower()}-{code[5:]} "})  # as typed: lower case, a dash
    assert ok.status_code == 200
    assert ok.context["verified"]["order"].pk == pickup_order.pk
    html = ok.content.decode()
    assert 'data-testid="pickup-verified"' in html
    assert member.phone[-4:] in html
    assert member.phone not in html  # masked
    order = Order.objects.get(pk=pickup_order.pk)
    assert order.status == OrderStatus.FULFILLED
    assert order.picked_up_by_id == staff_user.pk
    again = client.post(PICKUP, {"code": code})
    assert again.context["verified"] is None
    assert t("en", "This pickup code has already been used.") in again.content.decode()
    unknown = client.post(PICKUP, {"code": "ZZZZZZZZZZ"})
    assert t("en", "No order is waiting for this pickup code.") in unknown.content.decode()
    member_page = client_for(member).get(f"/mall/orders/{pickup_order.pk}/").content.decode()
    assert 'data-testid="order-picked-up"' in member_page
    assert code not in member_page


def test_only_staff_with_the_pickup_permission_open_the_pickup_page(
    pickup_order: Order, staff: Callable[[str], tuple[User, Client]], member: User
) -> None:
    anonymous = client_for().post(PICKUP, {"code": pickup_order.pickup_code})
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert client_for(member).post(PICKUP, {"code": pickup_order.pickup_code}).status_code == 403
    for group in ("analyst", "finance"):
        _user, client = staff(group)
        assert client.get(PICKUP).status_code == 403
        assert client.post(PICKUP, {"code": pickup_order.pickup_code}).status_code == 403
    assert Order.objects.get(pk=pickup_order.pk).picked_up_at is None


# --- Query ceilings ---------------------------------------------------------------------------------------


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_ceilings_of_catalogue_product_and_order_pages(
    member: User, fund: Callable[[int, int], None], product: Callable[..., Product], campaign: Campaign
) -> None:
    """No query per product or per order: the user, the balance, the categories and one page of products; a
    product with its usage; an order with its code, product and shipment."""
    fund(member.pk, 5000)
    for i in range(10):
        product(name=f"书{i}", name_en=f"Book {i}", limit_per_member=2)
    item = Product.objects.first()
    assert item is not None
    goods = product(delivery="physical")
    for key in range(3):
        order_place(product_id=item.pk if key < 2 else goods.pk, user_id=member.pk, request_key=str(key))
    order = Order.objects.get(user=member, product=goods)
    client = client_for(member)
    client.get(CATALOGUE)  # the session is read from the cache from now on
    assert queries(client, CATALOGUE) <= 4
    assert queries(client, CATALOGUE + "?affordable=1&category=books&q=Book") <= 5  # + the category's subtree
    assert queries(client, f"/mall/p/{item.pk}/") <= 4
    assert queries(client, f"/mall/p/{item.pk}/redeem/") <= 3
    assert queries(client, f"/mall/orders/{order.pk}/") <= 3
    assert queries(client, REDEMPTIONS) <= 3


# --- Rate limits and the Content-Security-Policy -------------------------------------------------------------


def test_ordering_and_revealing_are_rate_limited_per_member(
    settings: Any, member: User, fund: Callable[[int, int], None], product: Callable[..., Product]
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "order": "1/min", "code_reveal": "1/min"}
    fund(member.pk, 1000)
    item = product(delivery="code", points_price=10)
    client = client_for(member)
    assert client.post(f"/mall/p/{item.pk}/redeem/", {"token": "t" * 32}).status_code == 302
    assert client.post(f"/mall/p/{item.pk}/redeem/", {"token": "u" * 32}).status_code == 429
    order = Order.objects.get(user=member)
    assert client.post(f"/mall/orders/{order.pk}/reveal/").status_code == 200
    assert client.post(f"/mall/orders/{order.pk}/reveal/").status_code == 429
    assert Order.objects.filter(user=member).count() == 1
    assert CodeReveal.objects.filter(order=order).count() == 1
    assert client.get(f"/mall/p/{item.pk}/redeem/").status_code == 200  # looking is not limited


def test_mall_pages_need_no_inline_script_or_style(
    member: User, fund: Callable[[int, int], None], shelf: dict[str, Product], product: Callable[..., Product]
) -> None:
    """The pickup QR code is inline SVG: no data: URL, no style attribute (the site's CSP allows neither)."""
    fund(member.pk, 1000)
    goods = product(delivery="physical", physical_methods="pickup", pickup_location="门店", pickup_location_en="Store")
    order = order_place(product_id=goods.pk, user_id=member.pk, method="pickup").order
    client = client_for(member)
    pages = [CATALOGUE, f"/mall/p/{goods.pk}/", f"/mall/p/{goods.pk}/redeem/", f"/mall/orders/{order.pk}/", REDEMPTIONS]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert inline_parts(html) == [], url
        assert "data:" not in html, url
    assert '<svg class="qr"' in client.get(f"/mall/orders/{order.pk}/").content.decode()
