"""Every write of a mall order: placing one (one SQL call, mall_order_place()), cancelling and refunding it,
handing over goods (shipped through the shared shipments module, or picked up in a store with a one-time code)
and revealing its code. The catalogue's writes are in mall/catalogue.py, code pools' in mall/codes.py, supplier
settlement in mall/settlement.py."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import psycopg
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Address, User
from accounts.services import address_save
from campaigns.earning import member_earned
from config.codes import code_normalize, random_code
from config.sql_call import prepared_call
from mall.errors import (
    AddressClosed,
    AddressRequired,
    InvalidOrderKey,
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
    ProductNotFound,
)
from mall.models import Code, CodeReveal, Delivery, LimitCounter, Method, Order, OrderStatus, Product
from points.errors import IdempotencyConflict, InsufficientPoints
from points.models import Hold
from points.services import hold_capture, hold_return, hold_void, transfer_reverse
from shipments.errors import ShipmentStateInvalid
from shipments.models import Shipment
from shipments.rules import ShipmentStatus
from shipments.services import shipment_address_set, shipment_cancel
from tasks.models import TaskProgress

MAX_REQUEST_KEY = 100
PICKUP_CODE_LENGTH = 10  # 31^10 ≈ 2^49.5
VOUCHER_CODE_LENGTH = 16  # ≈ 2^79: a membership voucher redeemable elsewhere
MAX_ID = 2**63

_ORDER_SQL = (
    "SELECT * FROM mall_order_place(%s::bigint, %s::bigint, %s::text, %s::text, %s::integer, %s::text, %s::text, "
    "%s::timestamptz, %s::integer, %s::integer)"
)


def order_request_key(raw: str | None) -> str:
    """The caller's retry key (Idempotency-Key header or the page's one-time token), or a fresh one."""
    if raw is None or raw == "":
        return secrets.token_hex(16)
    if len(raw) > MAX_REQUEST_KEY or not raw.isprintable():
        raise InvalidOrderKey()
    return raw


@dataclass(frozen=True)
class OrderPlaced:
    order: Order
    replayed: bool
    spendable: int


class _Row(NamedTuple):
    status: str
    order: int
    spendable: int | None
    row: dict[str, Any] | str | None  # the order row as JSON (psycopg decodes json into a dict)
    code: str | None


def _order_call(params: list[Any]) -> _Row:
    """One call of mall_order_place() (config.sql_call.prepared_call: a server-side prepared statement); its
    refusals become domain errors."""
    try:
        rows = prepared_call(_ORDER_SQL, params)
    except psycopg.Error as exc:
        raise _refusal(exc) from exc
    return _Row(*rows[0])


def _refusal(exc: psycopg.Error) -> Exception:
    diag = getattr(exc, "diag", None)
    detail = getattr(diag, "message_detail", None)
    hint = getattr(diag, "message_hint", None)
    match exc.sqlstate:
        case "MA001":
            return NotAvailable()
        case "MA002":
            return OutOfStock()
        case "MA003":
            return PoolEmpty()
        case "MA004":
            return LimitReached(details={"limit": detail or "member", "max": int(hint or 0)})
        case "MA005":
            return InsufficientPoints(details={"spendable": int(detail or 0), "price": int(hint or 0)})
        case "MA006":
            return MethodInvalid()
        case "MA007":
            return ProductNotFound()
        case "MA008":
            return IdempotencyConflict(details={"status": getattr(diag, "message_primary", None)})
        case "23505":  # a UNIQUE key taken meanwhile (the order's, its ledger key's, its code's): order_place
            return IntegrityError(str(exc))  # answers with the order of this request key if there is one
    return exc


def _order(row: _Row) -> Order:
    """The order mall_order_place() returned, built from its JSON row (no second read), with its code."""
    if row.row is None:
        return Order.objects.select_related("code").get(pk=row.order)
    data = json.loads(row.row) if isinstance(row.row, str) else row.row
    columns = [(field.attname, field.column, field) for field in Order._meta.concrete_fields]
    order = Order(**{name: field.to_python(data[str(column)]) for name, column, field in columns})
    order._state.adding, order._state.db = False, connection.alias
    if order.code_id is not None and row.code is not None:
        order.code = Code(pk=order.code_id, code=row.code, assigned_to_id=order.user_id)
    return order


def order_place(
    *,
    product_id: int,
    user_id: int,
    request_key: str | None = None,
    method: str = "",
    address_id: int | None = None,
    discount_percent: int = 0,
    now: datetime | None = None,
) -> OrderPlaced:
    """Redeem one unit of a product: one SQL call, mall_order_place() (mall/sql/mall_order_place.sql), in one
    transaction — sale window and phase, per-member limits (counter rows, no write skew), guarded stock decrement,
    a code from the product's pool (refused before any point moves when the pool is empty), points through the
    value gate (goods are held until shipped or picked up; everything else is charged), virtual items handed over,
    the order row, a shipment for goods to ship, 'redeem' task progress. With `address_id` (one of the member's
    saved addresses) a shipment is ready to ship at once; without, it waits for the address on My redemptions.

    The same `request_key` returns the first order (replayed=True) and moves nothing more. Errors:
    product_not_found, not_available, delivery_method_invalid, address_required, limit_reached, out_of_stock,
    insufficient_points (details: spendable, price); each leaves nothing behind."""
    now = now or timezone.now()
    key = order_request_key(request_key)
    if method not in ("", *Method.values):
        raise MethodInvalid()
    if not 0 < product_id < MAX_ID:
        raise ProductNotFound()
    address = None
    if address_id is not None:
        address = Address.objects.filter(pk=address_id, user_id=user_id).first() if 0 < address_id < MAX_ID else None
        if address is None:
            raise AddressRequired()
    params: list[Any] = [
        product_id,
        user_id,
        key,
        method,
        discount_percent,
        random_code(VOUCHER_CODE_LENGTH),
        random_code(PICKUP_CODE_LENGTH),
        now,
        ContentType.objects.get_for_model(Order).pk,
        ContentType.objects.get_for_model(TaskProgress).pk,
    ]
    try:
        if address is None and not connection.in_atomic_block:
            row = _order_call(params)  # alone: one statement, one transaction, one round trip
        else:
            with transaction.atomic():
                row = _order_call(params)
                if address is not None and row.status == "ok":
                    shipment = Shipment.objects.filter(owner_kind=ORDER_SHIPMENT, owner_id=row.order).first()
                    if shipment is not None:
                        shipment_address_set(shipment_id=shipment.pk, address=address, now=now)
    except IntegrityError:
        # The same key raced itself: the first order took its UNIQUE keys (the order's, the ledger posting's);
        # this one rolled back whole.
        previous = Order.objects.select_related("code").filter(user_id=user_id, request_key=key).first()
        if previous is None:
            raise
        return OrderPlaced(previous, replayed=True, spendable=_spendable(user_id, now))
    if row.status == "ok":
        member_earned(user_id=user_id)  # an order spends (a points card earns): the earning hooks, after commit
    return OrderPlaced(_order(row), replayed=row.status == "replay", spendable=row.spendable or 0)


ORDER_SHIPMENT = "mall.order"


def _spendable(user_id: int, now: datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT spendable FROM points_balance(%s, 'PTS', %s, '0'::interval)", [user_id, now])
        row = cursor.fetchone()
    return int(row[0] or 0) if row else 0


def _member_order(*, order_id: int, user_id: int, lock: bool = False) -> Order:
    if not 0 < order_id < MAX_ID:
        raise OrderNotFound()
    qs = Order.objects.filter(pk=order_id, user_id=user_id)
    order = (qs.select_for_update() if lock else qs).first()
    if order is None:
        raise OrderNotFound()
    return order


def order_cancel(
    *,
    order_id: int,
    member_id: int | None = None,
    actor_id: int | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Order:
    """Cancel an order and refund it in one transaction: the points back (a held order's hold voided, a charged
    one's spend reversed), the unit back in stock, the member's limit counters lowered, a code back to its pool
    only if it was never revealed, a shipment that has not left cancelled.

    A member (`member_id`) cancels only their own goods not yet shipped or picked up; an operator (`actor_id`,
    with a `reason`; audited by the order row and the ledger) also cancels code and instruction orders. Goods that
    have shipped or been picked up and virtual items handed over raise not_cancellable. Cancelling an order
    already refunded returns it unchanged: two concurrent refunds serialise on the order row and pay once."""
    now = now or timezone.now()
    if not 0 < order_id < MAX_ID:
        raise OrderNotFound()
    with transaction.atomic():
        qs = Order.objects.select_for_update().filter(pk=order_id)
        if member_id is not None:
            qs = qs.filter(user_id=member_id)
        order = qs.first()
        if order is None:
            raise OrderNotFound()
        if order.status == OrderStatus.REFUNDED:
            return order
        goods = order.delivery == Delivery.PHYSICAL
        if order.delivery == Delivery.VIRTUAL or (goods and order.status == OrderStatus.FULFILLED):
            raise NotCancellable()
        if member_id is not None and not goods:
            raise NotCancellable()
        if order.shipment_id is not None:
            try:
                shipment_cancel(shipment_id=order.shipment_id, now=now)
            except ShipmentStateInvalid as exc:
                raise NotCancellable() from exc
        return _refund(order, actor_id=actor_id, reason=reason, now=now)


def _refund(order: Order, *, actor_id: int | None, reason: str, now: datetime) -> Order:
    """Undo an order whose row the caller has locked: limits, stock and code first (the order's own lock order:
    counters, product, code, then the member's wallet), then the points."""
    windows = ["all", order.local_date.isoformat()]
    LimitCounter.objects.filter(
        product_id=order.product_id, user_id=order.user_id, window__in=windows, count__gt=0
    ).update(count=F("count") - 1)
    Product.objects.filter(pk=order.product_id).update(stock=F("stock") + 1)
    if order.code_id is not None and order.code_revealed_at is None:
        Code.objects.filter(pk=order.code_id).update(assigned_to=None, assigned_at=None, assignment_key=None)
        order.code = None
    why = reason.strip() or "order cancelled"
    if order.hold_id is not None:
        hold = Hold.objects.get(pk=order.hold_id)
        if hold.state == Hold.State.CAPTURED:  # goods handed over, then returned: undo both postings
            order.refund_transfer_id = _reverse_captured(order, hold=hold, now=now)
        else:
            order.refund_transfer_id = hold_void(hold_id=hold.pk, now=now).settle_transfer_id
    else:
        assert order.spend_transfer_id is not None
        posted = transfer_reverse(
            transfer_id=order.spend_transfer_id,
            key=f"order:{order.pk}:refund",
            reason=f"积分商城退款：{order.name}",
            reason_en=f"Mall refund: {order.name_en or order.name}",
            actor_id=actor_id,
            now=now,
        )
        order.refund_transfer_id = posted.transfer_id
    order.status = OrderStatus.REFUNDED
    order.cancelled_at = now
    order.cancelled_by_id = actor_id
    order.cancel_reason = why[:200]
    order.save(update_fields=["status", "code", "refund_transfer_id", "cancelled_at", "cancelled_by", "cancel_reason"])
    return order


def _reverse_captured(order: Order, *, hold: Hold, now: datetime) -> int:
    """Points of goods that were handed over and came back (points.services.hold_return)."""
    reason, reason_en = f"积分商城退货：{order.name}", f"Mall return: {order.name_en or order.name}"
    return hold_return(hold_id=hold.pk, key=f"order:{order.pk}:return", reason=reason, reason_en=reason_en, now=now).pk


def _handed_over(order: Order, *, now: datetime) -> None:
    """Goods reached the member (shipped, or picked up): capture the held points; the order is fulfilled."""
    if order.hold_id is not None:
        hold_capture(hold_id=order.hold_id, now=now)
    order.status = OrderStatus.FULFILLED
    order.fulfilled_at = now
    order.save(update_fields=["status", "fulfilled_at"])


def order_shipment_moved(shipment: Shipment, status: str, now: datetime) -> None:
    """The shipments module's on_moved hook for mall orders (mall/shipping.py registers it), inside the move's
    transaction: shipped → the held points are captured and the order is fulfilled; returned → the order is
    refunded (points back, unit back in stock)."""
    order = Order.objects.select_for_update().filter(pk=shipment.owner_id).first()
    if order is None or order.status == OrderStatus.REFUNDED:
        return
    if status == ShipmentStatus.SHIPPED and order.status == OrderStatus.PLACED:
        _handed_over(order, now=now)
    elif status == ShipmentStatus.RETURNED:
        _refund(order, actor_id=None, reason="goods returned", now=now)


def order_address_set(
    *,
    order_id: int,
    user_id: int,
    address_id: int | None = None,
    new_address: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Order:
    """The member gives (or changes) the shipping address of their goods until they ship: one of their saved
    addresses (`address_id`), or a new one (`new_address`, saved through accounts.services.address_save in the same
    transaction, so it is kept only when the order takes it). Afterwards (or for an order without a shipment)
    address_closed; an invalid new address is a ValidationError and nothing is saved."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _member_order(order_id=order_id, user_id=user_id)
        if order.shipment_id is None or order.status != OrderStatus.PLACED:
            raise AddressClosed()
        if new_address is not None:
            address: Address | None = address_save(user=User.objects.get(pk=user_id), data=new_address)
        elif address_id is not None and 0 < address_id < MAX_ID:
            address = Address.objects.filter(pk=address_id, user_id=user_id).first()
        else:
            address = None
        if address is None:
            raise AddressRequired()
        try:
            shipment_address_set(shipment_id=order.shipment_id, address=address, now=now)
        except ShipmentStateInvalid as exc:
            raise AddressClosed() from exc
    return order


def pickup_verify(*, pickup_code: str, staff_id: int, now: datetime | None = None) -> Order:
    """Store staff check the member's pickup code (typed or scanned from the QR): the goods are handed over once —
    the held points are captured and the order is fulfilled. A code used before raises pickup_already_done; an
    unknown code, or one of a cancelled order, pickup_code_invalid. Two staff scanning at once: one wins."""
    now = now or timezone.now()
    code = code_normalize(pickup_code)
    if not code:
        raise PickupCodeInvalid()
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pickup_code=code).first()
        if order is None or order.status == OrderStatus.REFUNDED:
            raise PickupCodeInvalid()
        if order.picked_up_at is not None:
            raise PickupAlreadyDone(details={"picked_up_at": order.picked_up_at.isoformat()})
        order.picked_up_at = now
        order.picked_up_by_id = staff_id
        order.save(update_fields=["picked_up_at", "picked_up_by"])
        _handed_over(order, now=now)
    return order


def code_reveal(*, order_id: int, user_id: int, ip: str | None = None, now: datetime | None = None) -> str:
    """Show a member the code of their own order (another member's order is not found); every reveal is logged,
    and a revealed code never returns to its pool."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _member_order(order_id=order_id, user_id=user_id, lock=True)
        if order.code_id is None:
            raise NoCode()
        if order.code_revealed_at is None:
            order.code_revealed_at = now
            order.save(update_fields=["code_revealed_at"])
        CodeReveal.objects.create(order=order, user_id=user_id, revealed_at=now, ip=ip)
        return Code.objects.values_list("code", flat=True).get(pk=order.code_id)
