"""The mall applies the member level's discount inside mall_order_place() (the order stays one SQL call): the member
pays ceil(price × (100 − pct) / 100); the order keeps the list price and the discount; product pages show both."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.builders import member_fund
from levels.models import Ladder
from levels.services import member_level_evaluate
from mall.builders import product_build
from mall.orders import order_place
from mall.rules import max_list_price, price_after_discount
from points.selectors import balance_for
from tests.levels.conftest import TWO_LEVELS

pytestmark = pytest.mark.django_db


@pytest.fixture
def gold(member, campaign, make_ladder):
    """`member` at the Gold level (5 % off), with 1050 points spendable (1000 earned + the 50 reward)."""
    make_ladder()
    now = timezone.now()
    member_fund(campaign=campaign, user_id=member.pk, points=1000, now=now, key="earn:gold")
    assert member_level_evaluate(user_id=member.pk, now=now).member.level.rank == 1
    return member


def test_the_level_discount_is_charged_by_the_order(gold, campaign, make_user) -> None:
    item = product_build(campaign=campaign, points_price=99, delivery="instructions")
    placed = order_place(product_id=item.pk, user_id=gold.pk)
    order = placed.order
    assert (order.points, order.list_points, order.discount_percent) == (95, 99, Decimal("5.00"))  # ceil(94.05)
    assert balance_for(user_id=gold.pk).spendable == 1050 - 95 == placed.spendable
    order.refresh_from_db()
    assert (order.points, order.list_points, order.discount_percent) == (95, 99, Decimal("5.00"))

    # a member without a level pays the list price
    other = make_user()
    member_fund(campaign=campaign, user_id=other.pk, points=500, now=timezone.now(), key="earn:other")
    plain = order_place(product_id=item.pk, user_id=other.pk).order
    assert (plain.points, plain.list_points, plain.discount_percent) == (99, 99, Decimal("0"))


def test_a_fractional_discount_rounds_up_like_the_rules(member, campaign, make_ladder) -> None:
    levels = [dict(TWO_LEVELS[0]), {**TWO_LEVELS[1], "discount_percent": Decimal("2.5"), "reward_points": 0}]
    make_ladder(levels=levels)
    now = timezone.now()
    member_fund(campaign=campaign, user_id=member.pk, points=1000, now=now, key="earn:1")
    member_level_evaluate(user_id=member.pk, now=now)
    item = product_build(campaign=campaign, points_price=99, delivery="instructions")
    order = order_place(product_id=item.pk, user_id=member.pk).order
    assert order.points == price_after_discount(price=99, discount_percent=Decimal("2.5")) == 97  # ceil(96.525)


def test_an_inactive_ladder_gives_no_discount(gold, campaign) -> None:
    Ladder.objects.update(active=False)
    item = product_build(campaign=campaign, points_price=99, delivery="instructions")
    assert order_place(product_id=item.pk, user_id=gold.pk).order.points == 99


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_product_page_shows_the_price_before_and_after(gold, campaign, language) -> None:
    item = product_build(campaign=campaign, points_price=200, delivery="instructions")
    client = Client(headers={"accept-language": language})
    client.force_login(gold)
    html = client.get(reverse("mall:product", args=[item.pk])).content.decode()
    assert 'data-testid="list-price"' in html
    assert "<strong>200</strong>" in html
    assert 'data-testid="discounted-price"' in html
    assert "<strong>190</strong>" in html
    assert 'data-testid="level-discount"' in html
    assert "−5%" in html
    assert f'<html lang="{language}">' in html
    if language == "en":
        assert "Member level −5%" in html
    confirm = client.get(reverse("mall:redeem", args=[item.pk])).content.decode()
    assert "<strong>190</strong>" in confirm
    assert "<strong>860</strong>" in confirm
    anonymous = Client().get(reverse("mall:product", args=[item.pk])).content.decode()
    assert 'data-testid="list-price"' not in anonymous


def test_the_product_api_tells_the_member_their_price(gold, campaign) -> None:
    item = product_build(campaign=campaign, points_price=99, delivery="instructions")
    api = APIClient()
    api.force_authenticate(gold)
    me = api.get(f"/api/v1/mall/products/{item.pk}").json()["me"]
    assert (me["discount_percent"], me["member_price"], me["affordable"]) == ("5.00", 95, True)
    assert APIClient().get(f"/api/v1/mall/products/{item.pk}").json()["me"] is None


@pytest.mark.parametrize(
    ("balance", "pct", "top"), [(95, "5", 100), (94, "5", 98), (0, "5", 0), (97, "2.5", 99), (10, "0", 10)]
)
def test_the_highest_affordable_list_price(balance: int, pct: str, top: int) -> None:
    assert max_list_price(balance=balance, discount_percent=Decimal(pct)) == top
    assert top == 0 or price_after_discount(price=top, discount_percent=Decimal(pct)) <= balance
    assert price_after_discount(price=top + 1, discount_percent=Decimal(pct)) > balance


def test_affordable_listings_count_the_members_discount(gold, campaign, client: Client) -> None:
    """Gold (5 % off) with 1050 points: a 1105-point product costs them 1050 — affordable in the API and the page."""
    cheap = product_build(campaign=campaign, points_price=1105, delivery="instructions", name="够得着")
    product_build(campaign=campaign, points_price=1106, delivery="instructions", name="差一点")
    api = APIClient()
    api.force_authenticate(gold)
    listed = api.get("/api/v1/mall/products", {"affordable": "true"}).json()["results"]
    assert [row["id"] for row in listed] == [cheap.pk]
    client.force_login(gold)
    page = client.get(reverse("mall:catalogue"), {"affordable": "on"}).content.decode()
    assert "够得着" in page
    assert "差一点" not in page


def test_the_catalogue_cards_show_the_list_and_the_members_price(gold, campaign, client: Client) -> None:
    product_build(campaign=campaign, points_price=99, delivery="instructions")
    client.force_login(gold)
    page = client.get(reverse("mall:catalogue")).content.decode()
    assert 'data-testid="discounted-price"' in page
    assert 'data-testid="level-discount"' in page
    client.logout()
    assert 'data-testid="discounted-price"' not in client.get(reverse("mall:catalogue")).content.decode()
