"""The points mall: suppliers, a category tree, products with guarded stock, code pools, orders (one per unit
redeemed), per-member limit counters, code reveals and supplier statements. Every write goes through the services
(mall/orders.py, catalogue.py, codes.py, settlement.py); the order itself is one SQL call
(mall/sql/mall_order_place.sql)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign


class Supplier(models.Model):
    """Who provides goods or codes (mall products, code pools, wheel prizes); finance settles with each."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=80, blank=True)
    contact_name = models.CharField(_("contact"), max_length=80, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    settlement_terms = models.TextField(_("settlement terms"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class CodePool(models.Model):
    """A batch of pre-generated codes from a supplier (coupons, gift cards). Each code goes to one member."""

    name = models.CharField(_("name"), max_length=80)
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, null=True, blank=True, related_name="code_pools", verbose_name=_("supplier")
    )
    low_threshold = models.PositiveIntegerField(
        _("alert below"), default=10, help_text=_("Operators are alerted when fewer free codes than this remain.")
    )
    low_alerted_at = models.DateTimeField(_("low-pool alert sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("code pool")
        verbose_name_plural = _("code pools")

    def __str__(self) -> str:
        return self.name


class Code(models.Model):
    """One code. Assigned at most once: a member takes a free code with a skip-locked conditional update and
    `assignment_key` (unique) ties it to the draw or order that took it (see lottery_spin(), mall_order_place())."""

    pool = models.ForeignKey(CodePool, on_delete=models.PROTECT, related_name="codes", verbose_name=_("pool"))
    code = models.CharField(_("code"), max_length=64)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    assignment_key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("code")
        verbose_name_plural = _("codes")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["pool", "code"], name="code_unique_in_pool"),
            models.CheckConstraint(
                condition=(Q(assigned_to__isnull=True) & Q(assignment_key__isnull=True))
                | (Q(assigned_to__isnull=False) & Q(assignment_key__isnull=False)),
                name="code_assignment_complete",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["pool", "id"], condition=Q(assigned_to__isnull=True), name="code_free_idx")
        ]

    def __str__(self) -> str:
        return self.code


class Category(models.Model):
    """A node of the catalogue's category tree (books, movie tickets, fitness classes...)."""

    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    icon = models.CharField(_("icon"), max_length=8, blank=True, help_text=_("An emoji shown beside the name."))
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("shown"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering: ClassVar = ["position", "id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=~Q(parent=F("id")), name="category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class Delivery(models.TextChoices):
    CODE = "code", _("redemption code")
    INSTRUCTIONS = "instructions", _("usage instructions")
    PHYSICAL = "physical", _("physical goods")
    VIRTUAL = "virtual", _("virtual item")


class Method(models.TextChoices):
    """How physical goods reach the member."""

    SHIPPING = "shipping", _("shipping")
    PICKUP = "pickup", _("store pickup")


class PhysicalMethods(models.TextChoices):
    SHIPPING = "shipping", _("shipping only")
    PICKUP = "pickup", _("store pickup only")
    BOTH = "both", _("shipping or store pickup")


class VirtualKind(models.TextChoices):
    POINTS_CARD = "points_card", _("points card")
    MULTIPLIER_CARD = "multiplier_card", _("multiplier card")
    MEMBERSHIP_VOUCHER = "membership_voucher", _("membership voucher")


class SalePhases(models.TextChoices):
    OFFICIAL = "official", _("official phase")
    OFFICIAL_FOLLOWUP = "official_followup", _("official and follow-up phases")


class Product(models.Model):
    """What a member can redeem. Stock is a guarded counter (CHECK >= 0; orders decrement it conditionally)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+", verbose_name=_("campaign"))
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, null=True, blank=True, related_name="products", verbose_name=_("supplier")
    )
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    image = models.ImageField(_("image"), upload_to="mall/products/", blank=True)
    thumbnail = models.ImageField(_("thumbnail"), upload_to="mall/thumbs/", blank=True, editable=False)
    points_price = models.PositiveIntegerField(_("price (points)"))
    stock = models.PositiveIntegerField(_("stock"), default=0)
    limit_per_member = models.PositiveIntegerField(
        _("limit per member"), null=True, blank=True, help_text=_("Units one member may redeem in the campaign.")
    )
    limit_per_day = models.PositiveIntegerField(
        _("limit per member per day"), null=True, blank=True, help_text=_("In the campaign's timezone.")
    )
    sale_phases = models.CharField(
        _("on sale during"), max_length=20, choices=SalePhases.choices, default=SalePhases.OFFICIAL_FOLLOWUP
    )
    sale_starts_at = models.DateTimeField(_("on sale from"), null=True, blank=True)
    sale_ends_at = models.DateTimeField(_("on sale until"), null=True, blank=True)
    delivery = models.CharField(_("delivery"), max_length=20, choices=Delivery.choices)
    code_pool = models.ForeignKey(
        CodePool, on_delete=models.PROTECT, null=True, blank=True, related_name="products", verbose_name=_("code pool")
    )
    instructions = models.TextField(_("instructions"), blank=True, help_text=_("Shown to the member after redeeming."))
    instructions_en = models.TextField(_("instructions (English)"), blank=True)
    physical_methods = models.CharField(
        _("physical delivery"), max_length=10, choices=PhysicalMethods.choices, blank=True
    )
    pickup_location = models.CharField(_("pickup location"), max_length=200, blank=True)
    pickup_location_en = models.CharField(_("pickup location (English)"), max_length=200, blank=True)
    virtual_kind = models.CharField(_("virtual item"), max_length=20, choices=VirtualKind.choices, blank=True)
    virtual_points = models.PositiveIntegerField(_("points on the card"), null=True, blank=True)
    multiplier_percent = models.PositiveIntegerField(_("multiplier (%)"), null=True, blank=True)
    multiplier_hours = models.PositiveIntegerField(_("multiplier hours"), null=True, blank=True)
    unit_cost_cny = models.DecimalField(
        _("unit cost (CNY)"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text=_("What the brand pays the supplier per unit delivered (supplier settlement)."),
    )
    is_active = models.BooleanField(_("listed"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering: ClassVar = ["position", "id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(points_price__gt=0), name="product_price_positive"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(unit_cost_cny__gte=0) & Q(unit_cost_cny__lte=Decimal("50000")), name="product_cost_legal"
            ),
            models.CheckConstraint(
                condition=~Q(delivery="code") | Q(code_pool__isnull=False), name="product_code_has_pool"
            ),
            models.CheckConstraint(
                condition=~Q(delivery="physical") | ~Q(physical_methods=""), name="product_physical_has_method"
            ),
            models.CheckConstraint(
                condition=~Q(delivery="virtual") | ~Q(virtual_kind=""), name="product_virtual_has_kind"
            ),
            models.CheckConstraint(
                condition=Q(sale_starts_at__isnull=True)
                | Q(sale_ends_at__isnull=True)
                | Q(sale_ends_at__gt=F("sale_starts_at")),
                name="product_sale_window",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["category", "is_active"], name="product_category_idx")]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("placed")
    FULFILLED = "fulfilled", _("fulfilled")
    REFUNDED = "refunded", _("cancelled and refunded")


class Order(models.Model):
    """One unit redeemed by one member. Made only by mall_order_place(); a retry with the same request key
    returns it. Points: charged through the value gate at once, or held (goods an outside party must hand over)
    and captured when shipped or picked up. A cancellation refunds in the same transaction."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mall_orders", verbose_name=_("member")
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders", verbose_name=_("product"))
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+", verbose_name=_("campaign"))
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("supplier")
    )
    request_key = models.CharField(max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    points = models.PositiveIntegerField(_("points paid"))
    # The product's price when ordered and the member level's mall discount applied (docs/adr/0010): points paid =
    # ceil(list_points × (100 − discount_percent) / 100). NULL list price: an order placed before member levels.
    list_points = models.PositiveIntegerField(_("list price (points)"), null=True, blank=True)
    discount_percent = models.DecimalField(
        _("member discount (%)"), max_digits=5, decimal_places=2, default=0, db_default=0
    )
    unit_cost_cny = models.DecimalField(_("unit cost (CNY)"), max_digits=10, decimal_places=2)
    name = models.CharField(_("item"), max_length=80)
    name_en = models.CharField(_("item (English)"), max_length=80)
    delivery = models.CharField(_("delivery"), max_length=20, choices=Delivery.choices)
    method = models.CharField(_("physical delivery"), max_length=10, choices=Method.choices, blank=True)
    code = models.OneToOneField(
        Code, on_delete=models.PROTECT, null=True, blank=True, related_name="order", verbose_name=_("code")
    )
    code_revealed_at = models.DateTimeField(_("code first revealed"), null=True, blank=True)
    voucher_code = models.CharField(_("voucher code"), max_length=64, blank=True)
    spend_transfer_id = models.BigIntegerField(null=True, blank=True)
    hold_id = models.BigIntegerField(null=True, blank=True)
    refund_transfer_id = models.BigIntegerField(null=True, blank=True)
    shipment_id = models.BigIntegerField(null=True, blank=True)
    pickup_code = models.CharField(_("pickup code"), max_length=16, null=True, blank=True, unique=True)
    picked_up_at = models.DateTimeField(_("picked up"), null=True, blank=True)
    picked_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    local_date = models.DateField(_("day (campaign time)"))
    created_at = models.DateTimeField(_("placed at"))
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        permissions: ClassVar = [
            ("verify_pickup", _("Can verify store pickups")),
            ("export_order", _("Can export orders")),
        ]
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "request_key"], name="order_request_once"),
            models.CheckConstraint(
                condition=Q(spend_transfer_id__isnull=False) | Q(hold_id__isnull=False), name="order_paid"
            ),
            models.CheckConstraint(
                condition=~Q(status="refunded") | Q(cancelled_at__isnull=False), name="order_refund_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="fulfilled") | Q(fulfilled_at__isnull=False), name="order_fulfilled_has_time"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["user", "-created_at"], name="order_member_idx"),
            models.Index(fields=["supplier", "fulfilled_at"], name="order_supplier_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name}"


class LimitCounter(models.Model):
    """Units of a product a member has taken in a window ('all' for the campaign, or the local date). One row
    per window; an order raises it with a conditional upsert, so two parallel orders cannot both pass a limit."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    window = models.CharField(max_length=10)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["product", "user", "window"], name="limit_counter_once"),
            models.CheckConstraint(condition=Q(count__gte=0), name="limit_counter_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}/{self.user_id}/{self.window}: {self.count}"


class CodeReveal(models.Model):
    """A member looked at an order's code (each reveal is logged; a revealed code never returns to its pool)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="reveals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revealed_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("code reveal")
        verbose_name_plural = _("code reveals")

    def __str__(self) -> str:
        return f"order {self.order_id} revealed {self.revealed_at:%Y-%m-%d %H:%M}"


class StockMove(models.Model):
    """An operator's stock top-up or correction (audited): who, how many, why."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_moves")
    delta = models.IntegerField(_("change"))
    stock_after = models.PositiveIntegerField(_("stock after"))
    reason = models.CharField(_("reason"), max_length=200)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stock change")
        verbose_name_plural = _("stock changes")
        constraints: ClassVar = [models.CheckConstraint(condition=~Q(delta=0), name="stock_move_not_zero")]

    def __str__(self) -> str:
        return f"{self.product_id} {self.delta:+d}"


class SupplierStatement(models.Model):
    """What the brand owes one supplier for one period: units delivered x unit cost minus returns, over mall
    orders and wheel prizes. Re-running a period replaces an unsettled statement; a settled one is final."""

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="statements")
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to (inclusive)"))
    units = models.IntegerField(_("units"), default=0)
    amount_cny = models.DecimalField(_("amount (CNY)"), max_digits=14, decimal_places=2, default=Decimal("0.00"))
    lines = models.JSONField(_("lines"), default=list)
    generated_at = models.DateTimeField(_("generated at"))
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("settled by"),
    )

    class Meta:
        verbose_name = _("supplier statement")
        verbose_name_plural = _("supplier statements")
        permissions: ClassVar = [
            ("settle_supplierstatement", _("Can mark supplier statements settled")),
            ("export_supplierstatement", _("Can export supplier statements")),
        ]
        ordering: ClassVar = ["-period_start", "supplier__name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["supplier", "period_start", "period_end"], name="statement_once"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="statement_period"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} {self.period_start}–{self.period_end}"


# Statements are money owed: every generation, refresh and settlement is audited (settling is a conditional UPDATE,
# logged by hand in mall.settlement.statement_settle).
auditlog.register(SupplierStatement)

# The catalogue and code pools (operators' edits): stock is left out — it moves by orders and stock top-ups, which
# StockMove and the orders record (and a product saved from an older form never writes it).
auditlog.register(Supplier)
auditlog.register(Category)
auditlog.register(Product, exclude_fields=["stock", "updated_at"])
auditlog.register(CodePool, exclude_fields=["low_alerted_at"])
