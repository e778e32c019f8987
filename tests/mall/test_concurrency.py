"""The mall under real concurrency (threads released together against Postgres): stock never oversells, codes
are never shared, per-member limits hold without write skew, a retried or doubled request pays once, a refund
requested twice pays back once, a pickup code works once; then the ledger reconciles."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from campaigns.models import Campaign
from mall.builders import product_build
from mall.errors import LimitReached, OutOfStock, PickupAlreadyDone
from mall.models import Code, LimitCounter, Order, OrderStatus, Product
from mall.orders import OrderPlaced, order_cancel, order_place, pickup_verify
from points.models import AccountKind, Transfer
from points.selectors import balance_for
from points.services import Award, System, ledger_reconcile, ledger_rollup, transfers_post_batch
from tests.conftest import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _members(n: int, campaign: Campaign, points: int) -> list[int]:
    """n members, each with `points` spendable points in the campaign (one batch posting)."""
    User.objects.bulk_create([User(phone=f"+8616{i:09d}", email=f"mall{i}@example.com") for i in range(n)])
    ids = list(User.objects.filter(email__startswith="mall").order_by("pk").values_list("pk", flat=True))
    transfers_post_batch(
        awards=[Award(key=f"fund:{uid}", user_id=uid, amount=points) for uid in ids],
        source=System(AccountKind.ISSUANCE, campaign.pk),
        campaign_id=campaign.pk,
        now=timezone.now(),
    )
    return ids


def _reconciled() -> None:
    ledger_rollup()
    run = ledger_reconcile()
    assert run.ok, run.drift


def _split(results: list[Any]) -> tuple[list[OrderPlaced], Counter[str]]:
    placed = [r for r in results if isinstance(r, OrderPlaced)]
    refused = Counter(type(r).__name__ for r in results if not isinstance(r, OrderPlaced))
    return placed, refused


def test_a_hundred_orders_for_seven_units(campaign) -> None:
    members = _members(100, campaign, 1000)
    item = product_build(campaign=campaign, delivery="code", points_price=300, stock=7)
    results = run_concurrently(100, lambda i: order_place(product_id=item.pk, user_id=members[i]))
    placed, refused = _split(results)
    assert len(placed) == 7
    assert refused == Counter({"OutOfStock": 93}), refused
    assert all(isinstance(r, OutOfStock) for r in results if not isinstance(r, OrderPlaced))
    assert Product.objects.get(pk=item.pk).stock == 0
    codes = [p.order.code_id for p in placed]
    assert len(set(codes)) == 7
    assert None not in codes
    assert Code.objects.filter(pool_id=item.code_pool_id, assigned_to__isnull=False).count() == 7
    assert Order.objects.count() == 7
    spend = Transfer.objects.filter(kind="redeem")
    assert spend.count() == 7
    assert spend.aggregate(total=Sum("amount"))["total"] == 2100
    winners = {p.order.user_id for p in placed}
    for uid in members:
        assert balance_for(user_id=uid).spendable == (700 if uid in winners else 1000)
    _reconciled()


def test_one_member_twenty_parallel_orders_of_a_one_per_member_item(campaign) -> None:
    (uid,) = _members(1, campaign, 5000)
    item = product_build(campaign=campaign, points_price=100, stock=50, limit_per_member=1)
    results = run_concurrently(20, lambda i: order_place(product_id=item.pk, user_id=uid, request_key=f"k{i}"))
    placed, refused = _split(results)
    assert len(placed) == 1
    assert refused == Counter({"LimitReached": 19}), refused
    assert all(isinstance(r, LimitReached) for r in results if not isinstance(r, OrderPlaced))
    assert Product.objects.get(pk=item.pk).stock == 49
    assert LimitCounter.objects.get(product=item, user_id=uid, window="all").count == 1
    assert balance_for(user_id=uid).spendable == 4900
    _reconciled()


def test_the_same_request_retried_in_parallel_is_one_order(campaign) -> None:
    (uid,) = _members(1, campaign, 1000)
    item = product_build(campaign=campaign, delivery="code", points_price=100, stock=50)
    results = run_concurrently(10, lambda i: order_place(product_id=item.pk, user_id=uid, request_key="same"))
    placed, refused = _split(results)
    assert not refused, refused
    assert len(placed) == 10
    assert len({p.order.pk for p in placed}) == 1
    assert sum(not p.replayed for p in placed) == 1
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=item.pk).stock == 49
    assert balance_for(user_id=uid).spendable == 900
    _reconciled()


def test_refund_requested_twice_at_once_pays_back_once(campaign) -> None:
    uid, staff = _members(2, campaign, 1000)
    code_item = product_build(campaign=campaign, delivery="code", points_price=300, stock=5)
    goods = product_build(campaign=campaign, delivery="physical", points_price=200, stock=5)
    coded = order_place(product_id=code_item.pk, user_id=uid).order
    held = order_place(product_id=goods.pk, user_id=uid).order
    assert balance_for(user_id=uid).spendable == 500
    operator_cancels = run_concurrently(8, lambda i: order_cancel(order_id=coded.pk, actor_id=staff, reason=f"dup {i}"))
    member_cancels = run_concurrently(8, lambda i: order_cancel(order_id=held.pk, member_id=uid))
    for result in operator_cancels + member_cancels:
        assert isinstance(result, Order), result
        assert result.status == OrderStatus.REFUNDED
    assert balance_for(user_id=uid).spendable == 1000
    assert Transfer.objects.filter(kind="reversal").count() == 1
    assert Transfer.objects.filter(kind="void").count() == 1
    assert Product.objects.get(pk=code_item.pk).stock == 5
    assert Product.objects.get(pk=goods.pk).stock == 5
    assert Code.objects.get(pk=coded.code_id).assigned_to_id is None  # never revealed: back in the pool
    _reconciled()


def test_a_pickup_code_verified_at_once_by_ten_staff_works_once(campaign) -> None:
    uid, staff = _members(2, campaign, 1000)
    item = product_build(
        campaign=campaign, delivery="physical", physical_methods="pickup", pickup_location="店", points_price=100
    )
    order = order_place(product_id=item.pk, user_id=uid).order
    results = run_concurrently(10, lambda i: pickup_verify(pickup_code=order.pickup_code, staff_id=staff))
    done = [r for r in results if isinstance(r, Order)]
    assert len(done) == 1
    assert all(isinstance(r, PickupAlreadyDone) for r in results if not isinstance(r, Order))
    assert Transfer.objects.filter(kind="capture").count() == 1
    _reconciled()


def test_orders_and_cancellations_interleaved_keep_stock_exact(campaign) -> None:
    """Members order and cancel the same goods at once (lock order: limit counters, product, code, wallet —
    never a deadlock); afterwards stock + live orders = the initial stock and every point is accounted for."""
    members = _members(20, campaign, 1000)
    goods = product_build(campaign=campaign, delivery="physical", points_price=100, stock=15, limit_per_member=2)
    first = [order_place(product_id=goods.pk, user_id=uid).order for uid in members[:10]]

    def act(i: int) -> Any:
        if i < 10:
            return order_cancel(order_id=first[i].pk, member_id=first[i].user_id)
        return order_place(product_id=goods.pk, user_id=members[i - 10])

    results = run_concurrently(30, act)
    assert not [r for r in results if not isinstance(r, Order | OrderPlaced | OutOfStock | LimitReached)], results
    live = Order.objects.filter(product=goods).exclude(status=OrderStatus.REFUNDED).count()
    assert Product.objects.get(pk=goods.pk).stock + live == 15
    spent = sum(1000 - balance_for(user_id=uid).spendable for uid in members)
    assert spent == 100 * live
    _reconciled()
