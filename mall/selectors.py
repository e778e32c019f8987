"""Reads of the mall shared by pages, API, admin and jobs. Hot reads (the catalogue, a product) use values() —
plain dicts, no model instances — and the member's balance comes from points_balance() in the same statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import CharField, DecimalField, IntegerField, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Concat, LPad

from config.config_cache import config_cached
from levels.selectors import DISCOUNT_SQL
from mall import rules
from mall.models import Category, Code, LimitCounter, Order, Product
from shipments.models import Shipment

# The columns a catalogue card and a product page need (the campaign's for the sale rule).
PRODUCT_FIELDS = (
    "id",
    "name",
    "name_en",
    "description",
    "description_en",
    "image",
    "thumbnail",
    "points_price",
    "stock",
    "limit_per_member",
    "limit_per_day",
    "sale_phases",
    "sale_starts_at",
    "sale_ends_at",
    "delivery",
    "physical_methods",
    "pickup_location",
    "pickup_location_en",
    "virtual_kind",
    "is_active",
    "category_id",
    "campaign_id",
    "campaign__slug",
    "campaign__is_published",
    "campaign__official_starts_at",
    "campaign__followup_starts_at",
    "campaign__ends_at",
    "campaign__timezone",
)


def codes_free(*, pool_id: int) -> int:
    """How many codes of the pool nobody has yet."""
    return Code.objects.filter(pool_id=pool_id, assigned_to__isnull=True).count()


def categories_tree() -> list[dict[str, Any]]:
    """Shown categories as a tree: each {id, slug, name, name_en, icon, parent_id, children: [...]}, in order."""
    rows = list(Category.objects.filter(is_active=True).values("id", "slug", "name", "name_en", "icon", "parent_id"))
    by_id: dict[int, dict[str, Any]] = {row["id"]: {**row, "children": []} for row in rows}
    roots: list[dict[str, Any]] = []
    for row in by_id.values():
        parent = by_id.get(row["parent_id"])
        (parent["children"] if parent is not None else roots).append(row)
    return roots


def category_and_children(*, category_id: int) -> list[int]:
    """A category's id and the ids of every category below it."""
    ids, frontier = [category_id], [category_id]
    while frontier:
        frontier = list(Category.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
        ids.extend(frontier)
    return ids


@dataclass(frozen=True)
class _SaleView:
    """Adapts a values() row to mall.rules' protocols."""

    row: dict[str, Any]

    @property
    def is_active(self) -> bool:
        return bool(self.row["is_active"])

    @property
    def sale_phases(self) -> str:
        return str(self.row["sale_phases"])

    @property
    def sale_starts_at(self) -> datetime | None:
        return self.row["sale_starts_at"]

    @property
    def sale_ends_at(self) -> datetime | None:
        return self.row["sale_ends_at"]

    @property
    def is_published(self) -> bool:
        return bool(self.row["campaign__is_published"])

    @property
    def official_starts_at(self) -> datetime:
        return self.row["campaign__official_starts_at"]

    @property
    def followup_starts_at(self) -> datetime:
        return self.row["campaign__followup_starts_at"]

    @property
    def ends_at(self) -> datetime:
        return self.row["campaign__ends_at"]


def with_sale_state(row: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """The row with `sale_state` ('on_sale' | 'upcoming' | 'ended') and `sale_opens_at` added (mall.rules)."""
    view = _SaleView(row)
    row["sale_state"] = rules.sale_state(product=view, campaign=view, now=now)
    row["sale_opens_at"] = rules.sale_opens_at(product=view, campaign=view)
    return row


def catalogue(
    *, now: datetime, category_id: int | None = None, q: str = "", max_price: int | None = None
) -> QuerySet[Product, dict[str, Any]]:
    """Products members may see, as dicts of PRODUCT_FIELDS in catalogue order (position, id): listed, of a
    published campaign that has not ended, not past their own sale end. Upcoming "drops" are included (the caller
    adds sale_state with with_sale_state). Filters: a category and everything below it, a text `q` (name in
    either language), `max_price` (the "affordable with my points" filter: the member's spendable balance)."""
    qs = Product.objects.filter(
        Q(sale_ends_at__isnull=True) | Q(sale_ends_at__gt=now),
        is_active=True,
        campaign__is_published=True,
        campaign__ends_at__gt=now,
    )
    if category_id is not None:
        qs = qs.filter(category_id__in=category_and_children(category_id=category_id))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(name_en__icontains=q))
    if max_price is not None:
        qs = qs.filter(points_price__lte=max_price)
    return qs.order_by("position", "id").values(*PRODUCT_FIELDS)


def product_row(*, product_id: int, now: datetime) -> dict[str, Any] | None:
    """One product as the catalogue shows it (with sale_state), or None when members may not see it."""
    if not 0 < product_id < 2**63:
        return None
    row = catalogue(now=now).filter(pk=product_id).first()
    return with_sale_state(row, now=now) if row is not None else None


def spendable(*, user_id: int, now: datetime) -> int:
    """The member's spendable points (points_balance(), one statement)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT spendable FROM points_balance(%s, 'PTS', %s, '0'::interval)", [user_id, now])
        row = cursor.fetchone()
    return int(row[0] or 0) if row else 0


def spendable_and_discount(*, user_id: int, now: datetime) -> tuple[int, Decimal]:
    """The member's spendable points and their member level's mall discount (percent), in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT spendable FROM points_balance(%s, 'PTS', %s, '0'::interval)), {DISCOUNT_SQL}",  # noqa: S608
            [user_id, now, user_id],
        )
        row = cursor.fetchone()
    return (int(row[0] or 0), Decimal(row[1] or 0)) if row else (0, Decimal(0))


def member_usage(*, product_id: int, user_id: int, local_date: str) -> dict[str, int]:
    """Units of a product the member has taken: {'all': n, 'today': n} (the limit counters)."""
    counts = dict(
        LimitCounter.objects.filter(product_id=product_id, user_id=user_id, window__in=["all", local_date]).values_list(
            "window", "count"
        )
    )
    return {"all": counts.get("all", 0), "today": counts.get(local_date, 0)}


def orders_of(*, user_id: int) -> QuerySet[Order]:
    """A member's orders, newest first."""
    return Order.objects.filter(user_id=user_id).order_by("-created_at", "-id")


def order_of(*, order_id: int, user_id: int) -> Order | None:
    """One of the member's orders (None for another member's or an unknown id)."""
    if not 0 < order_id < 2**63:
        return None
    return Order.objects.select_related("code").filter(pk=order_id, user_id=user_id).first()


def order_code_masked(order: Order) -> str:
    """The order's code as lists show it (last four characters), '' without a code."""
    return rules.code_masked(order.code.code) if order.code_id is not None and order.code is not None else ""


def order_shipments(orders: list[Order]) -> dict[int, Shipment]:
    """The shipments of these orders, by shipment id (one query)."""
    ids = [order.shipment_id for order in orders if order.shipment_id is not None]
    return {shipment.pk: shipment for shipment in Shipment.objects.filter(pk__in=ids)} if ids else {}


# --- The member API (mall/api.py): each read one statement ----------------------------------------------------

# Constant SQL for RawSQL (values always as parameters). The member's spendable points as a scalar subquery:
# evaluated once per statement (an InitPlan).
_SPENDABLE_SQL = "SELECT b.spendable FROM points_balance(%s, 'PTS', %s, '0'::interval) b"
_AFFORDABLE_SQL = f"SELECT floor(({_SPENDABLE_SQL}) * 100.0 / (100 - least({DISCOUNT_SQL}, 99)))"
# A category and every category below it, in the statement that filters by it (category_and_children, one trip).
_SUBTREE_SQL = (
    "WITH RECURSIVE tree(id) AS (SELECT %s::bigint UNION "
    "SELECT c.id FROM mall_category c JOIN tree ON c.parent_id = tree.id) SELECT id FROM tree"
)
# The member's limit counters of the product row (mall_order_place() keeps them): the campaign's, and the campaign's
# local day's (the window mall_order_place() names the same way).
_TAKEN_SQL = (
    "SELECT l.count FROM mall_limitcounter l WHERE l.product_id = mall_product.id AND l.user_id = %s "
    "AND l.\"window\" = 'all'"
)
_TAKEN_TODAY_SQL = (
    "SELECT l.count FROM mall_limitcounter l JOIN campaigns_campaign c ON c.id = mall_product.campaign_id "
    "WHERE l.product_id = mall_product.id AND l.user_id = %s "
    "AND l.\"window\" = to_char((%s::timestamptz AT TIME ZONE c.timezone)::date, 'YYYY-MM-DD')"
)


def catalogue_listing(
    *, now: datetime, category_id: int | None = None, q: str = "", affordable_for: int | None = None
) -> QuerySet[Product, dict[str, Any]]:
    """The catalogue (as `catalogue`) in one statement whatever the filters: a category with everything below it
    (a recursive subquery), and `affordable_for` a member — what their spendable balance pays after their member
    level's discount (points_balance() and the discount as subqueries). Each row carries `sort_key`, unique and in
    catalogue order (position, id), for cursor pagination (positions repeat; a cursor needs a unique key)."""
    qs = catalogue(now=now, q=q)
    if category_id is not None:
        qs = qs.filter(category_id__in=RawSQL(_SUBTREE_SQL, [category_id]))  # noqa: S611 - constant SQL
    if affordable_for is not None:
        # What the member's spendable points buy after their member level's discount (rules.max_list_price).
        qs = qs.filter(points_price__lte=RawSQL(_AFFORDABLE_SQL, [affordable_for, now, affordable_for]))  # noqa: S611
    return qs.annotate(
        sort_key=Concat(
            LPad(Cast("position", CharField()), 10, Value("0")),
            LPad(Cast("id", CharField()), 19, Value("0")),
            output_field=CharField(),
        )
    )


def product_for(*, product_id: int, now: datetime, user_id: int | None = None) -> dict[str, Any] | None:
    """One product as the catalogue shows it (with sale_state), or None when members may not see it; for a member
    (`user_id`) also `me_spendable`, the units they have taken, `me_all` (the campaign) and `me_today` (the
    campaign's local day), and `me_discount`, their member level's mall discount (percent) — all in one statement."""
    if not 0 < product_id < 2**63:
        return None
    qs = catalogue(now=now).filter(pk=product_id)
    if user_id is not None:
        qs = qs.annotate(
            me_spendable=RawSQL(_SPENDABLE_SQL, [user_id, now], output_field=IntegerField()),  # noqa: S611
            me_all=RawSQL(_TAKEN_SQL, [user_id], output_field=IntegerField()),  # noqa: S611
            me_today=RawSQL(_TAKEN_TODAY_SQL, [user_id, now], output_field=IntegerField()),  # noqa: S611
            me_discount=RawSQL(DISCOUNT_SQL, [user_id], output_field=DecimalField()),  # noqa: S611
        )
    row = qs.first()
    return with_sale_state(row, now=now) if row is not None else None


PRODUCT_TEXTS = ("instructions", "instructions_en", "pickup_location", "pickup_location_en")


def product_texts(*, product_id: int) -> dict[str, str]:
    """What an order's body shows of its product — instructions and pickup location, both languages — through the
    configuration cache (config/config_cache.py: product_save bumps its version), so placing an order reads no
    product row for them. Display only; nothing is decided by it."""

    def load() -> dict[str, str]:
        row = Product.objects.filter(pk=product_id).values(*PRODUCT_TEXTS).first()
        return row if row is not None else dict.fromkeys(PRODUCT_TEXTS, "")

    return config_cached(f"mall:product-texts:{product_id}", load)


def order_extras(*, product_id: int, shipment_id: int | None) -> dict[str, Any]:
    """What an order's body shows besides the order row: its product's texts (product_texts) and, for goods that
    ship, the shipment (status, tracking; one statement)."""
    shipment = None
    if shipment_id is not None:
        shipment = (
            Shipment.objects.filter(pk=shipment_id)
            .only("status", "claim_deadline", "carrier", "tracking_number", "shipped_at", "delivered_at")
            .first()
        )
    return {**product_texts(product_id=product_id), "shipment": shipment}


def orders_listing(*, user_id: int) -> QuerySet[Order]:
    """A member's orders, newest first, with their code and product (for the masked code and the instructions)."""
    return orders_of(user_id=user_id).select_related("code", "product")


def order_detail(*, order_id: int, user_id: int) -> Order | None:
    """One of the member's orders with its code and product (an order's page: instructions, pickup location),
    one query; None for another member's or an unknown id."""
    if not 0 < order_id < 2**63:
        return None
    return Order.objects.select_related("code", "product").filter(pk=order_id, user_id=user_id).first()
