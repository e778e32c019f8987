"""mall.rules: the sale rule pages and the API show is the one mall_order_place() enforces (proven over the
boundaries of both sale phases and a product's own window); the price after a discount; masked codes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.builders import member_fund
from mall import rules
from mall.errors import NotAvailable
from mall.orders import order_place

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("phases", "own_window"),
    [("official", False), ("official", True), ("official_followup", False), ("official_followup", True)],
)
def test_sale_state_agrees_with_the_sql(campaign, member, product, phases, own_window) -> None:
    # Funded before the earliest instant tried, so the balance never decides.
    member_fund(
        campaign=campaign,
        user_id=member.pk,
        points=10**6,
        now=campaign.warmup_starts_at - timedelta(days=1),
        key="fund",
    )
    start, followup, end = campaign.official_starts_at, campaign.followup_starts_at, campaign.ends_at
    window = {"sale_starts_at": start + timedelta(hours=2), "sale_ends_at": followup - timedelta(hours=2)}
    item = product(sale_phases=phases, stock=1000, **(window if own_window else {}))
    instants = [campaign.warmup_starts_at, start - SECOND, start, followup - SECOND, followup, end - SECOND, end]
    if own_window:
        instants += [window["sale_starts_at"] - SECOND, window["sale_starts_at"], window["sale_ends_at"] - SECOND]
        instants += [window["sale_ends_at"]]
    seen = set()
    for now in instants:
        state = rules.sale_state(product=item, campaign=campaign, now=now)
        seen.add(state)
        try:
            order_place(product_id=item.pk, user_id=member.pk, now=now)
        except NotAvailable:
            assert state != "on_sale", now
        else:
            assert state == "on_sale", now
    assert seen == {"upcoming", "on_sale", "ended"}


def test_unlisted_or_unpublished_is_ended(campaign, product) -> None:
    item = product(is_active=False)
    assert rules.sale_state(product=item, campaign=campaign, now=campaign.official_starts_at) == "ended"


@pytest.mark.parametrize(
    ("price", "discount", "expected"),
    [(100, 0, 100), (100, 15, 85), (99, 10, 90), (1, 50, 1), (3, 100, 1), (250, -5, 250), (250, 120, 1)],
)
def test_price_after_discount(price, discount, expected) -> None:
    assert rules.price_after_discount(price=price, discount_percent=discount) == expected


def test_discounted_price_is_what_the_sql_charges(member, fund, product) -> None:
    fund(member.pk, 1000)
    item = product(points_price=99)
    order = order_place(product_id=item.pk, user_id=member.pk, discount_percent=10).order
    assert order.points == rules.price_after_discount(price=99, discount_percent=10) == 90


def test_code_masked() -> None:
    assert rules.code_masked("ABCD-1234-XYZW") == "••••••••XYZW"
    assert rules.code_masked("ABCDE") == "•BCDE"
    assert rules.code_masked("ABC") == "•••"
