"""Placing, cancelling and handing over mall orders (mall.orders), one transaction each; the ledger reconciles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Address
from campaigns.models import Campaign
from mall.builders import pool_build
from mall.errors import (
    AddressClosed,
    LimitReached,
    MethodInvalid,
    NoCode,
    NotAvailable,
    NotCancellable,
    OrderNotFound,
    OutOfStock,
    PickupAlreadyDone,
    PickupCodeInvalid,
    PoolEmpty,
)
from mall.models import Code, CodeReveal, LimitCounter, Order, OrderStatus, Product
from mall.orders import code_reveal, order_address_set, order_cancel, order_place, pickup_verify
from points.errors import InsufficientPoints
from points.models import Hold, Transfer
from points.selectors import balance_for
from shipments.models import Shipment
from shipments.services import shipment_transition
from tests.data import ADDRESS

pytestmark = pytest.mark.django_db


def spendable(user_id: int) -> int:
    return balance_for(user_id=user_id).spendable


def address_of(user: Any) -> Address:
    return Address.objects.create(
        user=user,
        recipient="张三",
        phone="13800138000",
        province="上海市",
        city="上海市",
        district="浦东新区",
        detail="世纪大道 1 号",
        postal_code="200120",
    )


def test_code_order_charges_takes_stock_and_a_code(member, fund, product) -> None:
    fund(member.pk, 500)
    item = product(delivery="code", points_price=120, stock=3)
    placed = order_place(product_id=item.pk, user_id=member.pk, request_key="k1")
    order = placed.order
    assert not placed.replayed
    assert order.status == OrderStatus.FULFILLED
    assert order.points == 120
    assert order.code is not None
    assert placed.spendable == 380 == spendable(member.pk)
    assert Product.objects.get(pk=item.pk).stock == 2
    assert Code.objects.get(pk=order.code_id).assigned_to_id == member.pk
    assert Transfer.objects.get(pk=order.spend_transfer_id).kind == "redeem"


def test_same_request_key_replays_and_charges_once(member, fund, product) -> None:
    fund(member.pk, 500)
    item = product(points_price=100)
    first = order_place(product_id=item.pk, user_id=member.pk, request_key="same")
    again = order_place(product_id=item.pk, user_id=member.pk, request_key="same")
    assert again.replayed
    assert again.order.pk == first.order.pk
    assert spendable(member.pk) == 400
    assert Product.objects.get(pk=item.pk).stock == 9


def test_refusals_change_nothing(member, fund, product, campaign: Campaign) -> None:
    fund(member.pk, 150)
    item = product(points_price=200)
    with pytest.raises(InsufficientPoints) as refused:
        order_place(product_id=item.pk, user_id=member.pk)
    assert refused.value.details == {"spendable": 150, "price": 200}
    sold_out = product(stock=0)
    with pytest.raises(OutOfStock):
        order_place(product_id=sold_out.pk, user_id=member.pk)
    empty_pool = product(delivery="code", code_pool=pool_build(codes=0), stock=5)
    with pytest.raises(PoolEmpty):
        order_place(product_id=empty_pool.pk, user_id=member.pk)
    later = product(sale_starts_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(NotAvailable):
        order_place(product_id=later.pk, user_id=member.pk)
    with pytest.raises(MethodInvalid):
        order_place(product_id=item.pk, user_id=member.pk, method="shipping")
    assert spendable(member.pk) == 150
    assert Order.objects.count() == 0
    assert LimitCounter.objects.count() == 0
    assert Product.objects.get(pk=empty_pool.pk).stock == 5
    assert Product.objects.get(pk=item.pk).stock == 10


def test_limits_per_member_and_per_day(member, fund, product) -> None:
    fund(member.pk, 1000)
    item = product(points_price=10, limit_per_member=3, limit_per_day=2)
    now = timezone.now()
    order_place(product_id=item.pk, user_id=member.pk, now=now)
    order_place(product_id=item.pk, user_id=member.pk, now=now)
    with pytest.raises(LimitReached) as refused:
        order_place(product_id=item.pk, user_id=member.pk, now=now)
    assert refused.value.details == {"limit": "day", "max": 2}
    assert spendable(member.pk) == 980


def test_goods_are_held_then_captured_when_shipped(member, fund, product) -> None:
    fund(member.pk, 500)
    item = product(delivery="physical", points_price=300)
    placed = order_place(product_id=item.pk, user_id=member.pk, address_id=address_of(member).pk)
    order = placed.order
    assert order.status == OrderStatus.PLACED
    assert order.method == "shipping"
    assert order.hold_id is not None
    assert spendable(member.pk) == 200
    shipment = Shipment.objects.get(pk=order.shipment_id)
    assert shipment.status == "ready"
    assert shipment.owner_kind == "mall.order"
    shipment_transition(
        shipment_id=shipment.pk, to="shipped", carrier="SF", tracking_number="SF123", now=timezone.now()
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert Hold.objects.get(pk=order.hold_id).state == "captured"
    with pytest.raises(NotCancellable):
        order_cancel(order_id=order.pk, member_id=member.pk)
    assert spendable(member.pk) == 200


def test_member_cancels_goods_before_shipping(member, fund, product) -> None:
    fund(member.pk, 500)
    item = product(delivery="physical", points_price=300, limit_per_member=1)
    order = order_place(product_id=item.pk, user_id=member.pk).order
    assert Shipment.objects.get(pk=order.shipment_id).status == "awaiting_address"
    order_address_set(order_id=order.pk, user_id=member.pk, address_id=address_of(member).pk)
    cancelled = order_cancel(order_id=order.pk, member_id=member.pk)
    assert cancelled.status == OrderStatus.REFUNDED
    assert spendable(member.pk) == 500
    assert Product.objects.get(pk=item.pk).stock == 10
    assert Shipment.objects.get(pk=order.shipment_id).status == "cancelled"
    order_place(product_id=item.pk, user_id=member.pk)  # the limit was given back


def test_returned_goods_refund(member, fund, product) -> None:
    fund(member.pk, 500)
    item = product(delivery="physical", points_price=300)
    order = order_place(product_id=item.pk, user_id=member.pk, address_id=address_of(member).pk).order
    now = timezone.now()
    shipment_transition(shipment_id=order.shipment_id, to="shipped", carrier="SF", tracking_number="SF9", now=now)
    shipment_transition(shipment_id=order.shipment_id, to="returned", now=now)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert spendable(member.pk) == 500
    assert Product.objects.get(pk=item.pk).stock == 10


def test_operator_cancels_code_order_code_back_only_if_never_revealed(member, operator, fund, product) -> None:
    fund(member.pk, 500)
    item = product(delivery="code", points_price=100)
    quiet = order_place(product_id=item.pk, user_id=member.pk).order
    seen = order_place(product_id=item.pk, user_id=member.pk).order
    code_text = code_reveal(order_id=seen.pk, user_id=member.pk)
    assert code_text == Code.objects.get(pk=seen.code_id).code
    assert CodeReveal.objects.count() == 1
    staff = operator[0]
    order_cancel(order_id=quiet.pk, actor_id=staff.pk, reason="wrong item")
    order_cancel(order_id=seen.pk, actor_id=staff.pk, reason="complaint")
    assert Code.objects.get(pk=quiet.code_id).assigned_to_id is None  # back to the pool
    assert Code.objects.get(pk=seen.code_id).assigned_to_id == member.pk  # revealed: stays taken
    assert spendable(member.pk) == 500
    third = order_place(product_id=item.pk, user_id=member.pk).order
    with pytest.raises(NotCancellable):  # members cancel goods only
        order_cancel(order_id=third.pk, member_id=member.pk)


def test_reveal_of_another_members_code_is_not_found(member, make_user, fund, product) -> None:
    fund(member.pk, 500)
    item = product(delivery="code")
    order = order_place(product_id=item.pk, user_id=member.pk).order
    other = make_user()
    with pytest.raises(OrderNotFound):
        code_reveal(order_id=order.pk, user_id=other.pk)
    plain = order_place(product_id=product().pk, user_id=member.pk).order
    with pytest.raises(NoCode):
        code_reveal(order_id=plain.pk, user_id=member.pk)
    assert CodeReveal.objects.count() == 0


def test_pickup_verifies_once(member, operator, fund, product) -> None:
    fund(member.pk, 500)
    item = product(
        delivery="physical", physical_methods="pickup", pickup_location="南京路店", pickup_location_en="Nanjing Rd"
    )
    order = order_place(product_id=item.pk, user_id=member.pk).order
    assert order.method == "pickup"
    assert order.pickup_code
    assert order.shipment_id is None
    staff = operator[0]
    done = pickup_verify(pickup_code=order.pickup_code.lower(), staff_id=staff.pk)
    assert done.status == OrderStatus.FULFILLED
    assert done.picked_up_by_id == staff.pk
    with pytest.raises(PickupAlreadyDone):
        pickup_verify(pickup_code=order.pickup_code, staff_id=staff.pk)
    with pytest.raises(PickupCodeInvalid):
        pickup_verify(pickup_code="NOPE2345", staff_id=staff.pk)


def test_virtual_points_card_and_multiplier(member, fund, product) -> None:
    fund(member.pk, 500)
    card = product(delivery="virtual", virtual_kind="points_card", virtual_points=80, points_price=100)
    order_place(product_id=card.pk, user_id=member.pk)
    assert spendable(member.pk) == 480
    boost = product(delivery="virtual", virtual_kind="multiplier_card", multiplier_percent=200, multiplier_hours=24)
    order_place(product_id=boost.pk, user_id=member.pk)
    voucher = product(delivery="virtual", virtual_kind="membership_voucher", virtual_points=None)
    order = order_place(product_id=voucher.pk, user_id=member.pk).order
    assert len(order.voucher_code) == 16
    assert member.multiplier_cards.count() == 1


def test_address_closes_once_the_goods_ship(member, fund, product) -> None:
    fund(member.pk, 500)
    item = product(delivery="physical", points_price=100)
    order = order_place(product_id=item.pk, user_id=member.pk, address_id=address_of(member).pk).order
    shipment_transition(
        shipment_id=order.shipment_id, to="shipped", carrier="SF", tracking_number="1", now=timezone.now()
    )
    with pytest.raises(AddressClosed):
        order_address_set(order_id=order.pk, user_id=member.pk, address_id=address_of(member).pk)
    code_order = order_place(product_id=product().pk, user_id=member.pk).order
    with pytest.raises(AddressClosed):
        order_address_set(order_id=code_order.pk, user_id=member.pk, address_id=address_of(member).pk)


def test_a_new_address_is_saved_only_when_the_order_takes_it(member, fund, product) -> None:
    fund(member.pk, 500)
    order = order_place(product_id=product(delivery="physical", points_price=100).pk, user_id=member.pk).order
    order_address_set(order_id=order.pk, user_id=member.pk, new_address=dict(ADDRESS))
    assert Shipment.objects.get(pk=order.shipment_id).status == "ready"
    assert Address.objects.filter(user=member).count() == 1
    code_order = order_place(product_id=product().pk, user_id=member.pk).order
    with pytest.raises(AddressClosed):
        order_address_set(order_id=code_order.pk, user_id=member.pk, new_address=dict(ADDRESS))
    assert Address.objects.filter(user=member).count() == 1
