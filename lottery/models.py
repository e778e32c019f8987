"""The prize wheel: wheels, prizes (with published odds and guarded stock), draws with fairness proofs and the
per-member spin counters that enforce caps. Physical prizes ship through shipments (ADR 0005)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from config.i18n import localized

# Anti-Unfair Competition Law art. 10: a lottery-type prize may not be worth more than 50,000 RMB.
MAX_PRIZE_VALUE_CNY = Decimal("50000.00")


class RandomHex(models.Func):
    """32 random lowercase hex characters made by the database: gen_random_uuid() (core Postgres, 122 bits from
    the server's strong random source, no extension) without its dashes. A column default, so rows that SQL
    functions insert (lottery_spin) get one too, and adding the column fills every existing row with its own."""

    template = "translate(gen_random_uuid()::text, '-', '')"
    output_field = models.CharField()


class Wheel(models.Model):
    """One prize wheel per campaign. Spins are open only in the campaign's official phase.

    Fairness: `server_seed` is drawn once from `secrets` when the wheel is created and never changes;
    `seed_commitment` = SHA-256(server_seed as ASCII hex) is published from the start; the seed itself is
    shown only after the campaign ends (see lottery/fairness.py for the algorithm)."""

    campaign = models.OneToOneField(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="wheel", verbose_name=_("campaign")
    )
    name = models.CharField(_("name"), max_length=80, default="积分抽奖大转盘")
    name_en = models.CharField(_("name (English)"), max_length=80, blank=True, default="Prize wheel")
    cost_points = models.PositiveIntegerField(_("points per spin"), default=50)
    free_spins_per_day = models.PositiveIntegerField(
        _("free spins per day"), default=0, help_text=_("The first spins of each day cost nothing.")
    )
    daily_cap = models.PositiveIntegerField(
        _("spins per member per day"), null=True, blank=True, help_text=_("Blank: no daily limit.")
    )
    total_cap = models.PositiveIntegerField(
        _("spins per member in total"), null=True, blank=True, help_text=_("Blank: no overall limit.")
    )
    claim_days = models.PositiveIntegerField(
        _("days to claim a physical prize"),
        default=30,
        help_text=_("A physical prize without a shipping address after this many days expires."),
    )
    server_seed = models.CharField(_("server seed"), max_length=64, editable=False)
    seed_commitment = models.CharField(_("seed commitment (SHA-256)"), max_length=64, editable=False)
    odds_version = models.PositiveIntegerField(_("odds table version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("prize wheel")
        verbose_name_plural = _("prize wheels")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(daily_cap__isnull=True) | Q(daily_cap__gt=0), name="wheel_daily_cap"),
            models.CheckConstraint(condition=Q(total_cap__isnull=True) | Q(total_cap__gt=0), name="wheel_total_cap"),
            models.CheckConstraint(condition=Q(claim_days__gt=0), name="wheel_claim_days"),
            models.CheckConstraint(condition=~Q(server_seed=""), name="wheel_has_seed"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.name}"

    @property
    def display_name(self) -> str:
        return localized(self, "name")


class PrizeKind(models.TextChoices):
    PHYSICAL = "physical", _("physical goods")
    POINTS = "points", _("points")
    MULTIPLIER_CARD = "multiplier_card", _("points multiplier card")
    COUPON = "coupon", _("coupon code")
    MEMBERSHIP_VOUCHER = "membership_voucher", _("membership upgrade voucher")
    NONE = "none", _("thanks for playing")


class Prize(models.Model):
    """One slot of a wheel. Its chance is weight / (sum of the weights of the slots still in stock)."""

    wheel = models.ForeignKey(Wheel, on_delete=models.PROTECT, related_name="prizes", verbose_name=_("wheel"))
    kind = models.CharField(_("kind"), max_length=20, choices=PrizeKind.choices)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80, blank=True)
    image = models.ImageField(_("image"), upload_to="prizes/", blank=True)
    weight = models.PositiveIntegerField(_("weight"))
    stock_total = models.PositiveIntegerField(
        _("stock (total)"), null=True, blank=True, help_text=_("Blank means unlimited (only for “thanks for playing”).")
    )
    stock_remaining = models.PositiveIntegerField(_("stock (remaining)"), null=True, blank=True)
    per_member_cap = models.PositiveIntegerField(
        _("wins per member"), null=True, blank=True, help_text=_("Blank: no limit.")
    )
    unit_value_cny = models.DecimalField(
        _("unit value (CNY)"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    points_amount = models.PositiveIntegerField(_("points given"), null=True, blank=True)
    multiplier_percent = models.PositiveIntegerField(
        _("multiplier (%)"), null=True, blank=True, help_text=_("200 means ×2 on points earned while active.")
    )
    multiplier_hours = models.PositiveIntegerField(_("multiplier lasts (hours)"), null=True, blank=True)
    supplier = models.ForeignKey(
        "mall.Supplier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prizes",
        verbose_name=_("supplier"),
        help_text=_("Who provides the prize (supplier settlement)."),
    )
    code_pool = models.ForeignKey(
        "mall.CodePool",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("code pool"),
        help_text=_("Coupons are taken from this pool."),
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("prize")
        verbose_name_plural = _("prizes")
        ordering = ("sort_order", "id")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="prize_weight_positive"),
            models.CheckConstraint(condition=Q(stock_remaining__gte=0), name="prize_stock_not_negative"),
            models.CheckConstraint(
                condition=(Q(stock_total__isnull=True) & Q(stock_remaining__isnull=True))
                | Q(stock_remaining__lte=F("stock_total")),
                name="prize_stock_within_total",
            ),
            models.CheckConstraint(
                condition=Q(kind="none") | Q(stock_total__isnull=False), name="prize_stock_only_none_unlimited"
            ),
            models.CheckConstraint(
                condition=Q(unit_value_cny__gte=0) & Q(unit_value_cny__lte=MAX_PRIZE_VALUE_CNY),
                name="prize_value_legal",
            ),
            models.CheckConstraint(condition=~Q(kind="points") | Q(points_amount__gt=0), name="prize_points_amount"),
            models.CheckConstraint(
                condition=~Q(kind="multiplier_card") | (Q(multiplier_percent__gt=100) & Q(multiplier_hours__gt=0)),
                name="prize_multiplier_fields",
            ),
            models.CheckConstraint(condition=~Q(kind="coupon") | Q(code_pool__isnull=False), name="prize_coupon_pool"),
            models.UniqueConstraint(fields=["wheel"], condition=Q(kind="none"), name="prize_one_none_per_wheel"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return localized(self, "name")

    @property
    def is_win(self) -> bool:
        return self.kind != PrizeKind.NONE


class WheelPlayer(models.Model):
    """A member's spin counters on one wheel. Every spin locks this row (serialising one member's spins without
    touching any row other members use), checks the daily and total caps with lottery_spin_allowance() and
    updates it, which numbers the member's spins (the fairness input)."""

    wheel = models.ForeignKey(Wheel, on_delete=models.PROTECT, related_name="+", db_index=False)  # wheel_player_once
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    spins_total = models.PositiveIntegerField(default=0)
    day = models.DateField(null=True)
    spins_today = models.PositiveIntegerField(default=0)
    # Stands for the member in this wheel's draws: the HMAC message of a spin is "<player_key>:<n>"
    # (lottery/fairness.py), so a draw can be recomputed by anyone given its reference without learning who made
    # it. Random, made when the row is (the member's first spin), never changed; shown to the member only.
    player_key = models.CharField(_("player key"), max_length=32, db_default=RandomHex(), editable=False)

    class Meta:
        verbose_name = _("wheel player")
        verbose_name_plural = _("wheel players")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["wheel", "user"], name="wheel_player_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.wheel_id}: {self.spins_total}"


class Draw(models.Model):
    """One spin: what it cost, the fair roll and the odds table it was mapped onto, and what it won.

    `table` is the effective odds table at the moment of the draw ([[prize_id, weight], ...] of the slots in
    stock and under the member's caps, in wheel order); `roll` = the unbiased number in [0, sum of weights)
    derived from HMAC-SHA256(server_seed, f"{player}:{spin_number}"), where `player` is the draw's `player_key`
    (the member's WheelPlayer key) or, for draws made before player keys existed (blank key), the member's id.
    Anyone with the revealed seed can recompute both (lottery/fairness.py).

    `reference` is the draw's public name: random, unique, shown to its member; the fairness page and API look a
    draw up by it (never by id), for its member at any time and for anyone else once the seed is revealed."""

    # No single-column indexes on wheel and user: the UNIQUE (wheel, user, ...) constraints and the (user,
    # created_at) index serve those look-ups, and every spin would pay for two more index entries.
    wheel = models.ForeignKey(
        Wheel, on_delete=models.PROTECT, related_name="draws", verbose_name=_("wheel"), db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="draws",
        verbose_name=_("member"),
        db_index=False,
    )
    spin_number = models.PositiveIntegerField(_("spin number"))
    request_key = models.CharField(_("request key"), max_length=120)
    prize = models.ForeignKey(Prize, on_delete=models.PROTECT, related_name="draws", verbose_name=_("prize"))
    roll = models.BigIntegerField(_("roll"))
    table = models.JSONField(_("odds table used"))
    odds_hash = models.CharField(_("odds table hash"), max_length=64)
    odds_version = models.PositiveIntegerField(_("odds table version"))
    cost_points = models.PositiveIntegerField(_("cost (points)"))
    spend_transfer_id = models.BigIntegerField(null=True, blank=True)
    prize_transfer_id = models.BigIntegerField(null=True, blank=True)
    code = models.CharField(_("code"), max_length=64, blank=True, help_text=_("Coupon or voucher code."))
    local_date = models.DateField(_("day"))
    created_at = models.DateTimeField(_("created at"))
    reference = models.CharField(_("reference"), max_length=32, db_default=RandomHex(), editable=False)
    player_key = models.CharField(_("player key"), max_length=32, blank=True, default="", db_default="", editable=False)

    class Meta:
        verbose_name = _("draw")
        verbose_name_plural = _("draws")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["wheel", "user", "spin_number"], name="draw_spin_number_once"),
            models.UniqueConstraint(fields=["wheel", "user", "request_key"], name="draw_request_once"),
            # a constraint rather than unique=True: no second (LIKE pattern) index for every spin to maintain
            models.UniqueConstraint(fields=["reference"], name="draw_reference_unique"),
            models.CheckConstraint(condition=Q(spin_number__gt=0), name="draw_spin_number_positive"),
            models.CheckConstraint(condition=Q(roll__gte=0), name="draw_roll_not_negative"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["user", "-created_at"], name="draw_user_recent_idx"),
            models.Index(fields=["wheel", "-id"], name="draw_wheel_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.wheel_id} #{self.spin_number}: {self.prize_id}"


# A physical prize ships as a shipments.Shipment of this owner kind, owner id = the draw's id, idempotency key
# "draw:<draw id>"; lottery_spin() creates it (lottery/sql/lottery_spin.sql) and lottery/shipping.py registers it.
PRIZE_SHIPMENT = "lottery.prize"


# Every change operators make to a wheel or a prize is audited (who, when, old → new). Stock taken by draws
# moves with conditional UPDATEs, which are not model saves and so do not flood the log. The seed is secret
# until the campaign ends: never written to the audit log.
auditlog.register(Wheel, exclude_fields=["server_seed"])
auditlog.register(Prize)
