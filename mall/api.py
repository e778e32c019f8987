"""The points mall's API for the mobile app: the category tree, the catalogue (by category, search, "affordable with
my points"), a product, placing an order, the member's orders, cancelling one and revealing its code.

The hot endpoints (the catalogue, a product, placing an order) follow docs/performance.md: one statement for the
read (mall.selectors.catalogue_listing / product_for, values() rows), one SQL call for the order
(mall_order_place()), bodies built as dicts in the shapes the serializers below document (they format nothing on
those paths). Codes are masked everywhere but the reveal endpoint, which logs each reveal."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import request_user_id
from config.api import (
    IDEMPOTENCY_HEADER,
    IdempotencyKeyParameter,
    api_datetime,
    domain_error_response,
    error_responses,
    idempotent,
    idempotent_by_effect,
    page_schema,
)
from config.client_ip import client_ip
from config.errors import IdempotencyKeyReused
from config.pagination import SignedCursorPagination
from config.ratelimit import throttle
from mall import orders, selectors
from mall.errors import OrderNotFound, ProductNotFound
from mall.models import Delivery, Method, Order, OrderStatus, PhysicalMethods, VirtualKind
from mall.rules import price_after_discount
from shipments.models import Shipment
from shipments.rules import ShipmentStatus
from shipments.selectors import shipment_address_open

MAX_ID = 2**63 - 1
SALE_STATES = ("on_sale", "upcoming", "ended")
_ORDER_STATUS_LABELS = dict(OrderStatus.choices)
_SHIPMENT_STATUS_LABELS = dict(ShipmentStatus.choices)
_SHIPMENT_CANCELLABLE = (ShipmentStatus.AWAITING_ADDRESS, ShipmentStatus.READY)


# --- Categories ---------------------------------------------------------------------------------------------


class CategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    icon = serializers.CharField(allow_blank=True, help_text="An emoji shown beside the name.")
    parent_id = serializers.IntegerField(allow_null=True)


# The tree: each category's children are categories too (drf-spectacular gives the component a reference to itself).
CategorySerializer._declared_fields["children"] = CategorySerializer(many=True)


class CategoriesApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(responses={200: CategorySerializer(many=True), **error_responses(401)}, tags=["mall"])
    def get(self, request: Request) -> Response:
        """The shown categories as a tree, in display order (both languages)."""
        return Response(selectors.categories_tree())


# --- Products -----------------------------------------------------------------------------------------------


class ProductMeSerializer(serializers.Serializer):
    spendable = serializers.IntegerField(help_text="The member's spendable points.")
    redeemed = serializers.IntegerField(help_text="Units of this product the member has taken in the campaign.")
    redeemed_today = serializers.IntegerField(help_text="… on the campaign's local day (the daily limit's count).")
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text="The member level's mall discount (percent); 0 without one."
    )
    member_price = serializers.IntegerField(
        help_text="What this member pays: ceil(points_price × (100 − discount_percent) / 100), at least 1."
    )
    affordable = serializers.BooleanField(help_text="spendable >= member_price.")


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    campaign = serializers.SlugField(help_text="The campaign's slug.")
    category_id = serializers.IntegerField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    description_en = serializers.CharField(allow_blank=True)
    image = serializers.URLField(allow_null=True)
    thumbnail = serializers.URLField(allow_null=True)
    points_price = serializers.IntegerField()
    stock = serializers.IntegerField(help_text="Units left.")
    in_stock = serializers.BooleanField()
    limit_per_member = serializers.IntegerField(allow_null=True, help_text="Units per member in the campaign.")
    limit_per_day = serializers.IntegerField(allow_null=True, help_text="Units per member per campaign-local day.")
    sale_state = serializers.ChoiceField(
        choices=SALE_STATES, help_text="upcoming: a drop not yet open (see sale_opens_at)."
    )
    sale_opens_at = serializers.DateTimeField()
    delivery = serializers.ChoiceField(
        choices=Delivery.choices,
        help_text="code: a redemption code; instructions: usage instructions; physical: goods shipped or picked "
        "up; virtual: a points card, multiplier card or membership voucher.",
    )
    physical_methods = serializers.ChoiceField(
        choices=[*PhysicalMethods.choices, ("", "")], allow_blank=True, help_text="Goods only: how they can reach you."
    )
    virtual_kind = serializers.ChoiceField(choices=[*VirtualKind.choices, ("", "")], allow_blank=True)
    pickup_location = serializers.CharField(allow_blank=True)
    pickup_location_en = serializers.CharField(allow_blank=True)


class ProductDetailSerializer(ProductSerializer):
    me = ProductMeSerializer(allow_null=True, help_text="Signed-in members only (else null).")


class ProductFilterSerializer(serializers.Serializer):
    category = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="A category id: it and every category below it."
    )
    affordable = serializers.BooleanField(
        required=False, default=False, help_text="true: only what the member's spendable points afford (sign in)."
    )
    q = serializers.CharField(
        required=False, max_length=80, allow_blank=True, help_text="Name contains (either language)."
    )


def _media(request: Request, name: str) -> str | None:
    return request.build_absolute_uri(default_storage.url(name)) if name else None


def _product_body(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    """ProductSerializer's shape from a catalogue row (mall.selectors.PRODUCT_FIELDS + sale_state)."""
    return {
        "id": row["id"],
        "campaign": row["campaign__slug"],
        "category_id": row["category_id"],
        "name": row["name"],
        "name_en": row["name_en"],
        "description": row["description"],
        "description_en": row["description_en"],
        "image": _media(request, row["image"]),
        "thumbnail": _media(request, row["thumbnail"]),
        "points_price": row["points_price"],
        "stock": row["stock"],
        "in_stock": row["stock"] > 0,
        "limit_per_member": row["limit_per_member"],
        "limit_per_day": row["limit_per_day"],
        "sale_state": row["sale_state"],
        "sale_opens_at": api_datetime(row["sale_opens_at"]),
        "delivery": row["delivery"],
        "physical_methods": row["physical_methods"],
        "virtual_kind": row["virtual_kind"],
        "pickup_location": row["pickup_location"],
        "pickup_location_en": row["pickup_location_en"],
    }


class ProductPagination(SignedCursorPagination):
    ordering = ("sort_key",)  # (position, id) as one unique key: mall.selectors.catalogue_listing


class ProductsApi(APIView):
    permission_classes = (AllowAny,)
    pagination_class = ProductPagination

    @extend_schema(
        parameters=[ProductFilterSerializer, OpenApiParameter("page_size", int, required=False)],
        responses={
            200: page_schema("ProductPage", ProductSerializer(many=True)),
            **error_responses(400, 401),
        },
        operation_id="mall_products_list",
        tags=["mall"],
    )
    def get(self, request: Request) -> Response:
        """The catalogue in display order, upcoming drops included (sale_state): optionally one category (and
        those below it), a name search, and `affordable=true` (signed-in members: what their spendable points
        afford; anonymous: 401). One statement per page."""
        filters = ProductFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        affordable_for = None
        if data["affordable"]:
            if not request.user.is_authenticated:
                raise exceptions.NotAuthenticated()
            affordable_for = request_user_id(request)
        now = timezone.now()
        qs = selectors.catalogue_listing(
            now=now, category_id=data.get("category"), q=data.get("q", "").strip(), affordable_for=affordable_for
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response(
            [_product_body(request, selectors.with_sale_state(row, now=now)) for row in page]
        )


class ProductApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(responses={200: ProductDetailSerializer, **error_responses(401, 404)}, tags=["mall"])
    def get(self, request: Request, product_id: int) -> Response:
        """One product with its stock, limits, sale window and delivery; for a signed-in member also their
        spendable points, how many they have taken and the price they pay after their member level's discount (one
        statement). Unlisted or unknown: 404
        `product_not_found`."""
        now = timezone.now()
        user_id = request_user_id(request) if request.user.is_authenticated else None
        row = selectors.product_for(product_id=product_id, now=now, user_id=user_id)
        if row is None:
            raise ProductNotFound()
        body = _product_body(request, row)
        body["me"] = None
        if user_id is not None:
            spendable = int(row["me_spendable"] or 0)
            discount = Decimal(row["me_discount"] or 0)
            price = price_after_discount(price=row["points_price"], discount_percent=discount)
            body["me"] = {
                "spendable": spendable,
                "redeemed": row["me_all"] or 0,
                "redeemed_today": row["me_today"] or 0,
                "discount_percent": f"{discount:.2f}",
                "member_price": price,
                "affordable": spendable >= price,
            }
        return Response(body)


# --- Orders -------------------------------------------------------------------------------------------------


class OrderShipmentSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ShipmentStatus.choices)
    status_label = serializers.CharField()
    address_open = serializers.BooleanField(help_text="The shipping address can still be given or changed.")
    carrier = serializers.CharField(allow_blank=True)
    tracking_number = serializers.CharField(allow_blank=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    status_label = serializers.CharField()
    product_id = serializers.IntegerField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    points = serializers.IntegerField(help_text="Points paid.")
    delivery = serializers.ChoiceField(choices=Delivery.choices)
    method = serializers.ChoiceField(choices=[*Method.choices, ("", "")], allow_blank=True, help_text="Goods only.")
    code_masked = serializers.CharField(
        allow_blank=True, help_text="The code's last four characters (empty without a code): reveal-code shows it."
    )
    code_revealed = serializers.BooleanField(
        help_text="The code has been revealed (it then never returns to its pool)."
    )
    voucher_code = serializers.CharField(allow_blank=True, help_text="Membership vouchers only.")
    instructions = serializers.CharField(allow_blank=True)
    instructions_en = serializers.CharField(allow_blank=True)
    pickup_code = serializers.CharField(allow_null=True, help_text="Store pickup: show it at the store (once).")
    pickup_location = serializers.CharField(allow_blank=True)
    pickup_location_en = serializers.CharField(allow_blank=True)
    picked_up_at = serializers.DateTimeField(allow_null=True)
    shipment = OrderShipmentSerializer(allow_null=True, help_text="Shipped goods only (else null).")
    cancellable = serializers.BooleanField(help_text="The member may cancel it now (goods not yet shipped).")
    created_at = serializers.DateTimeField()
    fulfilled_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)


class OrderMeSerializer(serializers.Serializer):
    spendable = serializers.IntegerField(help_text="The member's spendable points after the order.")


class OrderPlacedSerializer(OrderSerializer):
    replayed = serializers.BooleanField(help_text="true: this Idempotency-Key had already ordered; nothing new.")
    me = OrderMeSerializer()


class OrderRequestSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    method = serializers.ChoiceField(
        choices=Method.choices, required=False, help_text="Goods offering both: shipping or pickup."
    )
    address_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Shipping: one of the member's saved addresses."
    )


class CodeSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()
    code = serializers.CharField()


def _shipment_body(shipment: Shipment | None, now: datetime) -> dict[str, Any] | None:
    """OrderShipmentSerializer's shape."""
    if shipment is None:
        return None
    return {
        "status": shipment.status,
        "status_label": str(_SHIPMENT_STATUS_LABELS.get(shipment.status, shipment.status)),
        "address_open": shipment_address_open(shipment=shipment, now=now),
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "shipped_at": api_datetime(shipment.shipped_at),
        "delivered_at": api_datetime(shipment.delivered_at),
    }


def _order_body(order: Order, extras: dict[str, Any], now: datetime) -> dict[str, Any]:
    """OrderSerializer's shape: the order row (its code loaded), and `extras` as mall.selectors.order_extras gives
    them (the product's instructions and pickup location, the shipment)."""
    shipment: Shipment | None = extras["shipment"]
    cancellable = (
        order.status == OrderStatus.PLACED
        and order.delivery == Delivery.PHYSICAL
        and order.picked_up_at is None
        and (shipment is None or shipment.status in _SHIPMENT_CANCELLABLE)
    )
    return {
        "id": order.pk,
        "status": order.status,
        "status_label": str(_ORDER_STATUS_LABELS.get(order.status, order.status)),
        "product_id": order.product_id,
        "name": order.name,
        "name_en": order.name_en,
        "points": order.points,
        "delivery": order.delivery,
        "method": order.method,
        "code_masked": selectors.order_code_masked(order),
        "code_revealed": order.code_revealed_at is not None,
        "voucher_code": order.voucher_code,
        "instructions": extras["instructions"],
        "instructions_en": extras["instructions_en"],
        "pickup_code": order.pickup_code,
        "pickup_location": extras["pickup_location"],
        "pickup_location_en": extras["pickup_location_en"],
        "picked_up_at": api_datetime(order.picked_up_at),
        "shipment": _shipment_body(shipment, now),
        "cancellable": cancellable,
        "created_at": api_datetime(order.created_at),
        "fulfilled_at": api_datetime(order.fulfilled_at),
        "cancelled_at": api_datetime(order.cancelled_at),
    }


def _order_response(order: Order, now: datetime) -> dict[str, Any]:
    return _order_body(order, selectors.order_extras(product_id=order.product_id, shipment_id=order.shipment_id), now)


class OrderPagination(SignedCursorPagination):
    ordering = ("-created_at", "-id")


class OrdersApi(APIView):
    throttle_classes = (throttle("order"),)  # POST only
    pagination_class = OrderPagination

    @extend_schema(
        parameters=[OpenApiParameter("page_size", int, required=False)],
        responses={
            200: page_schema("OrderPage", OrderSerializer(many=True)),
            **error_responses(400, 401),
        },
        operation_id="mall_orders_list",
        tags=["mall"],
    )
    def get(self, request: Request) -> Response:
        """My redemptions, newest first, with shipment or pickup status; codes masked."""
        paginator = self.pagination_class()
        qs = selectors.orders_listing(user_id=request_user_id(request))
        page: list[Order] = paginator.paginate_queryset(qs, request, view=self) or []
        shipments = selectors.order_shipments(page)
        now = timezone.now()
        results = []
        for order in page:
            product = order.product
            extras = {
                "instructions": product.instructions,
                "instructions_en": product.instructions_en,
                "pickup_location": product.pickup_location,
                "pickup_location_en": product.pickup_location_en,
                "shipment": shipments.get(order.shipment_id) if order.shipment_id is not None else None,
            }
            results.append(_order_body(order, extras, now))
        return paginator.get_paginated_response(results)

    @extend_schema(
        request=OrderRequestSerializer,
        parameters=[IdempotencyKeyParameter],
        responses={
            201: OrderPlacedSerializer,
            200: OrderPlacedSerializer,
            **error_responses(400, 401, 404, 409, 422, 429, 503),
        },
        tags=["mall"],
    )
    @idempotent_by_effect
    def post(self, request: Request) -> Response:
        """Redeem one unit of a product: the points are charged (goods: held until shipped or picked up), a code
        or the instructions handed over, goods shipped (`address_id`, or give it later) or kept for store pickup
        (`method`). 201 with the order and the member's spendable points. The Idempotency-Key is the order's own
        key (at most 100 characters): a retry answers 200 with the same order (header Idempotent-Replayed) and
        charges nothing more; the same key for another product is 422 `idempotency_key_reused`.
        Errors: 404 `product_not_found`; 409 `out_of_stock`; 422 `insufficient_points` (details: spendable,
        price), `limit_reached` (details: limit, max), `not_available` (not on sale now); 400
        `delivery_method_invalid`, `address_required`."""
        data = OrderRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        now = timezone.now()
        # The key is the order's own (UNIQUE per member and key): mall_order_place() answers a retry with the first
        # order, so no HTTP idempotency record is kept (config.api.idempotent_by_effect).
        placed = orders.order_place(
            product_id=fields["product_id"],
            user_id=request_user_id(request),
            request_key=request.headers.get(IDEMPOTENCY_HEADER),
            method=fields.get("method", ""),
            address_id=fields.get("address_id"),
            now=now,
        )
        order = placed.order
        if placed.replayed and order.product_id != fields["product_id"]:
            return domain_error_response(IdempotencyKeyReused())
        body = _order_response(order, now)
        body["replayed"] = placed.replayed
        body["me"] = {"spendable": placed.spendable}
        response = Response(body, status=status.HTTP_200_OK if placed.replayed else status.HTTP_201_CREATED)
        if placed.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class OrderApi(APIView):
    @extend_schema(responses={200: OrderSerializer, **error_responses(401, 404)}, tags=["mall"])
    def get(self, request: Request, order_id: int) -> Response:
        """One of my orders (anyone else's: 404 `order_not_found`); its code masked."""
        order = selectors.order_of(order_id=order_id, user_id=request_user_id(request))
        if order is None:
            raise OrderNotFound()
        return Response(_order_response(order, timezone.now()))


class OrderCancelApi(APIView):
    @extend_schema(
        request=None,
        parameters=[IdempotencyKeyParameter],
        responses={200: OrderSerializer, **error_responses(400, 401, 404, 409, 422)},
        tags=["mall"],
    )
    @idempotent
    def post(self, request: Request, order_id: int) -> Response:
        """Cancel my goods order before it ships or is picked up: the points come back, the unit returns to stock.
        Cancelling a cancelled order answers it unchanged. Codes, instructions and virtual items, and goods
        already shipped or picked up: 409 `not_cancellable`; anyone else's order: 404 `order_not_found`."""
        now = timezone.now()
        order = orders.order_cancel(order_id=order_id, member_id=request_user_id(request), now=now)
        return Response(_order_response(order, now))


class OrderCodeApi(APIView):
    throttle_classes = (throttle("code_reveal"),)

    @extend_schema(
        request=None,
        responses={200: CodeSerializer, **error_responses(401, 404, 429, 503)},
        tags=["mall"],
    )
    def post(self, request: Request, order_id: int) -> Response:
        """Show my order's code in full. Every reveal is logged, and a revealed code never returns to its pool
        (even if the order is cancelled). Anyone else's order: 404 `order_not_found`; an order without a code: 404
        `code_not_found`."""
        code = orders.code_reveal(order_id=order_id, user_id=request_user_id(request), ip=client_ip(request))
        return Response({"order_id": order_id, "code": code})
