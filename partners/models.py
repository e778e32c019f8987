"""Partner systems' API keys, and the partner programme: dealers/agents, their tiers, sales and returns, rebate
schedules, statements, annual bonuses and recruiting rewards. Every write goes through partners.services."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """A partner system's key for server-to-server calls (POST /api/v1/events; partner sales to come).

    The key belongs to the partner system named by `name`, not to a campaign. An event names its campaign by
    slug; an event without one goes to `default_campaign`. The key may report events only for its default
    campaign and the campaigns listed in `campaigns`.

    The secret is shown once when the key is created and never stored. What is stored is `signing_key`
    = sha256(secret) (hex): a *derived signing key*. Partners sign with that same derivation
    (HMAC-SHA256(key=sha256(secret).hexdigest(), msg=f"{timestamp}.{body}"), see `partners.signing`), so the
    server can verify without ever holding the secret itself; a database leak exposes signing keys, which
    are revoked here."""

    name = models.CharField(_("partner system"), max_length=80)
    key_id = models.CharField(_("key id"), max_length=40, unique=True)
    signing_key = models.CharField(max_length=64)
    default_campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default campaign"),
        help_text=_("Events that name no campaign count for this one."),
    )
    campaigns = models.ManyToManyField(
        "campaigns.Campaign",
        blank=True,
        related_name="+",
        verbose_name=_("other campaigns allowed"),
        help_text=_("Events may name these campaigns (by slug) besides the default campaign."),
    )
    reports_sales = models.BooleanField(
        _("may report partner sales"),
        default=False,
        help_text=_("POST /api/v1/partner/sales. With a partner set, only that partner's sales."),
    )
    partner = models.ForeignKey(
        "Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_keys",
        verbose_name=_("partner"),
        help_text=_("A partner's own system: its sales only. Empty: the brand's system, any partner's sales."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner API key")
        verbose_name_plural = _("partner API keys")
        permissions: ClassVar = [
            ("issue_apikey", _("Can issue partner API keys")),
            ("revoke_apikey", _("Can revoke partner API keys")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"


# --- The partner programme (dealers and agents) ------------------------------------------------------------------
# Money is CNY: Decimal yuan with 2 places in these tables, integer fen in the ledger (points, asset CNY).


class Programme(models.Model):
    """The programme's settings: one row (id 1), edited in the admin."""

    time_zone = models.CharField(
        _("time zone"), max_length=40, default="Asia/Shanghai", help_text=_("Months and years are counted here.")
    )
    referral_bonus = models.DecimalField(
        _("recruiting reward (CNY)"),
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text=_("Paid once to the recruiter when a partner they referred books a first sale."),
    )
    referral_share = models.DecimalField(
        _("share of the recruit's first order (%)"), max_digits=5, decimal_places=2, default=0
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("partner programme")
        verbose_name_plural = _("partner programme")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(pk=1), name="partner_programme_single_row"),
            models.CheckConstraint(condition=Q(referral_bonus__gte=0), name="partner_programme_bonus_positive"),
            models.CheckConstraint(
                condition=Q(referral_share__gte=0, referral_share__lte=100), name="partner_programme_share_percent"
            ),
        ]

    def __str__(self) -> str:
        return str(_("partner programme"))


class RebateSchedule(models.Model):
    """Rebate bands on a month's net sales. `marginal`: each band's rate applies to the part of the sales inside
    the band (like income tax). `whole`: the rate of the band the month's total reaches applies to all of it."""

    class Method(models.TextChoices):
        MARGINAL = "marginal", _("marginal (each band's rate on the part inside it)")
        WHOLE = "whole", _("whole amount (the reached band's rate on everything)")

    name = models.CharField(_("name"), max_length=80)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, default=Method.MARGINAL)

    class Meta:
        verbose_name = _("rebate schedule")
        verbose_name_plural = _("rebate schedules")

    def __str__(self) -> str:
        return self.name


class RebateBand(models.Model):
    """From `lower` (inclusive) up to the next band's `lower`, sales earn `rate` percent. The first band starts at 0."""

    schedule = models.ForeignKey(RebateSchedule, on_delete=models.CASCADE, related_name="bands")
    lower = models.DecimalField(_("from (CNY)"), max_digits=14, decimal_places=2)
    rate = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("rebate band")
        verbose_name_plural = _("rebate bands")
        ordering = ("schedule", "lower")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["schedule", "lower"], name="rebate_band_unique_lower"),
            models.CheckConstraint(condition=Q(lower__gte=0), name="rebate_band_lower_positive"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=100), name="rebate_band_rate_percent"),
        ]

    def __str__(self) -> str:
        return f"≥ {self.lower}: {self.rate}%"


class PartnerTier(models.Model):
    """A rung of the partner ladder. The monthly review moves a partner up to the highest tier whose tenure and
    trailing-twelve-month sales they meet."""

    rank = models.PositiveSmallIntegerField(_("tier order"), unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60, blank=True)
    schedule = models.ForeignKey(
        RebateSchedule, on_delete=models.PROTECT, related_name="tiers", verbose_name=_("rebate schedule")
    )
    agency_discount = models.DecimalField(_("agency discount (%)"), max_digits=5, decimal_places=2, default=0)
    new_product_priority = models.BooleanField(_("priority on new products"), default=False)
    marketing_plan = models.TextField(_("marketing support (Chinese)"), blank=True)
    marketing_plan_en = models.TextField(_("marketing support (English)"), blank=True)
    min_tenure_months = models.PositiveIntegerField(_("minimum tenure (months)"), default=0)
    min_trailing_sales = models.DecimalField(
        _("minimum sales, last 12 months (CNY)"), max_digits=14, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("partner tier")
        verbose_name_plural = _("partner tiers")
        ordering = ("rank",)
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(agency_discount__gte=0, agency_discount__lte=100), name="partner_tier_discount_percent"
            ),
            models.CheckConstraint(condition=Q(min_trailing_sales__gte=0), name="partner_tier_sales_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Partner(models.Model):
    class Kind(models.TextChoices):
        DEALER = "dealer", _("dealer")
        AGENT = "agent", _("agent")

    code = models.CharField(
        _("partner code"), max_length=20, unique=True, help_text=_("Names the partner in sales files and the API.")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.DEALER)
    company = models.CharField(_("company"), max_length=120)
    contact_name = models.CharField(_("contact"), max_length=60, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=20, blank=True)
    contact_email = models.EmailField(_("email"), blank=True)
    tier = models.ForeignKey(
        PartnerTier, on_delete=models.PROTECT, related_name="partners", verbose_name=_("partner tier")
    )
    joined_at = models.DateField(_("joined on"))
    referred_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recruits",
        verbose_name=_("recruited by"),
    )
    referral_code = models.CharField(_("recruiting code"), max_length=12, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ("code",)
        constraints: ClassVar = [
            models.CheckConstraint(condition=~Q(referred_by=models.F("pk")), name="partner_not_own_recruiter"),
        ]

    def __str__(self) -> str:
        return f"{self.company} ({self.code})"


class PartnerUser(models.Model):
    """A login of a partner's staff: they see that partner's portal, and nothing of any other partner."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="logins", verbose_name=_("partner"))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_login", verbose_name=_("user")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner login")
        verbose_name_plural = _("partner logins")

    def __str__(self) -> str:
        return f"{self.user_id} → {self.partner_id}"


class PartnerApplication(models.Model):
    """A company applying through a partner's recruiting link; an operator approves it into a Partner."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    company = models.CharField(_("company"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Partner.Kind.choices, default=Partner.Kind.DEALER)
    contact_name = models.CharField(_("contact"), max_length=60)
    contact_phone = models.CharField(_("phone"), max_length=20)
    contact_email = models.EmailField(_("email"), blank=True)
    referred_by = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("recruited by")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    partner = models.OneToOneField(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="application", verbose_name=_("partner")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner application")
        verbose_name_plural = _("partner applications")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.company


class SaleBatch(models.Model):
    """One sales CSV import: all its rows were booked, or none (the row report says why)."""

    file_name = models.CharField(_("file"), max_length=200)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sales import")
        verbose_name_plural = _("sales imports")

    def __str__(self) -> str:
        return self.file_name


class Sale(models.Model):
    """A partner's sale (positive amount and quantity) or a return (negative, pointing at its original sale).

    `period` is the local month of `sold_at` (YYYY-MM). A return of a sale whose month is still open counts in that
    month's net sales (`rebate_period`); a return of a sale whose month already has a statement takes its share of
    that month's rebate back at once (`clawback_fen`, a ledger transfer) and shows on the next statement."""

    class Source(models.TextChoices):
        CSV = "csv", _("CSV import")
        API = "api", _("partner API")
        ADMIN = "admin", _("admin")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="sales", verbose_name=_("partner"))
    external_id = models.CharField(_("order id"), max_length=64)
    sold_at = models.DateTimeField(_("sold at"))
    period = models.CharField(_("month"), max_length=7)
    product = models.CharField(_("product"), max_length=120, blank=True)
    quantity = models.IntegerField(_("quantity"))
    amount = models.DecimalField(_("amount (CNY)"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    original = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="returns", verbose_name=_("original sale")
    )
    returned_amount = models.DecimalField(_("returned (CNY)"), max_digits=14, decimal_places=2, default=0)
    returned_quantity = models.IntegerField(_("returned quantity"), default=0)
    rebate_period = models.CharField(_("counts in month"), max_length=7, blank=True)
    clawback_fen = models.BigIntegerField(_("rebate taken back (fen)"), default=0)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    batch = models.ForeignKey(SaleBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="sales")
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("booked at"))

    class Meta:
        verbose_name = _("sale")
        verbose_name_plural = _("sales")
        ordering = ("-sold_at", "-pk")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["partner", "external_id"], name="sale_external_id_unique"),
            models.CheckConstraint(condition=Q(currency="CNY"), name="sale_currency_cny"),
            models.CheckConstraint(
                condition=Q(original__isnull=True, amount__gt=0, quantity__gt=0)
                | Q(original__isnull=False, amount__lt=0, quantity__lt=0),
                name="sale_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(returned_amount__gte=0, returned_amount__lte=models.F("amount"))
                | Q(original__isnull=False, returned_amount=0),
                name="sale_returned_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(returned_quantity__gte=0, returned_quantity__lte=models.F("quantity"))
                | Q(original__isnull=False, returned_quantity=0),
                name="sale_returned_within_quantity",
            ),
            models.CheckConstraint(condition=Q(clawback_fen__gte=0), name="sale_clawback_positive"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["partner", "period"], name="sale_partner_period"),
            models.Index(fields=["partner", "rebate_period"], name="sale_partner_rebate_period"),
        ]
        permissions: ClassVar = [("import_sale", _("Can import partner sales"))]

    def __str__(self) -> str:
        return f"{self.partner_id}:{self.external_id}"


class Statement(models.Model):
    """A partner's monthly statement: the month's sales, returns and rebate by band, and every movement of the
    partner's payable since the previous statement (ledger transfers with ids in (first_transfer_id - 1,
    last_transfer_id]): opening + rebate + bonus + referral rewards − clawbacks − payouts = closing. One per
    partner per month (a re-run finds it)."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="statements")
    period = models.CharField(_("month"), max_length=7)
    tier_name = models.CharField(_("partner tier"), max_length=60)
    tier_name_en = models.CharField(_("tier (English)"), max_length=60, blank=True)
    method = models.CharField(_("method"), max_length=10, choices=RebateSchedule.Method.choices)
    sales_total = models.DecimalField(_("sales"), max_digits=14, decimal_places=2)
    returns_total = models.DecimalField(_("returns"), max_digits=14, decimal_places=2)
    net_sales = models.DecimalField(_("net sales"), max_digits=14, decimal_places=2)
    bands = models.JSONField(_("rebate by band"), default=list)
    rebate_fen = models.BigIntegerField(_("rebate"))
    bonus_fen = models.BigIntegerField(_("annual bonus"), default=0)
    referral_fen = models.BigIntegerField(_("recruiting rewards"), default=0)
    clawback_fen = models.BigIntegerField(_("rebates taken back"), default=0)
    paid_fen = models.BigIntegerField(_("paid out"), default=0)
    opening_fen = models.BigIntegerField(_("opening balance"))
    closing_fen = models.BigIntegerField(_("payable"))
    last_transfer_id = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(_("issued at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payout_transfer_id = models.BigIntegerField(null=True, blank=True)
    payout_fen = models.BigIntegerField(_("amount paid"), default=0)

    class Meta:
        verbose_name = _("partner statement")
        verbose_name_plural = _("partner statements")
        ordering = ("-period", "partner")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["partner", "period"], name="statement_once_per_month"),
            models.CheckConstraint(
                condition=Q(
                    closing_fen=models.F("opening_fen")
                    + models.F("rebate_fen")
                    + models.F("bonus_fen")
                    + models.F("referral_fen")
                    - models.F("clawback_fen")
                    - models.F("paid_fen")
                ),
                name="statement_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(paid_at__isnull=True, payout_fen=0) | Q(paid_at__isnull=False, payout_fen__gt=0),
                name="statement_paid_has_amount",
            ),
        ]
        permissions: ClassVar = [("pay_statement", _("Can mark partner statements paid"))]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.period}"


class BonusRule(models.Model):
    """The annual bonus: a partner whose net sales over a calendar year reach `threshold` earns it, once per year —
    cash (credited to their payable on the December statement) or a non-cash reward (an obligation the brand
    fulfils and marks done)."""

    class Reward(models.TextChoices):
        CASH = "cash", _("cash")
        NON_CASH = "non_cash", _("non-cash (travel, marketing support…)")

    name = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80, blank=True)
    threshold = models.DecimalField(_("annual net sales from (CNY)"), max_digits=14, decimal_places=2)
    reward = models.CharField(_("reward"), max_length=10, choices=Reward.choices)
    cash_amount = models.DecimalField(_("cash amount (CNY)"), max_digits=12, decimal_places=2, default=0)
    description = models.TextField(_("what the partner gets (Chinese)"), blank=True)
    description_en = models.TextField(_("what the partner gets (English)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("annual bonus")
        verbose_name_plural = _("annual bonuses")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(threshold__gt=0), name="bonus_rule_threshold_positive"),
            models.CheckConstraint(
                condition=Q(reward="cash", cash_amount__gt=0) | Q(reward="non_cash", cash_amount=0),
                name="bonus_rule_cash_has_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BonusObligation(models.Model):
    """What the brand owes a partner for reaching an annual bonus: cash is credited at once (status credited);
    a non-cash reward waits for fulfilment."""

    class Status(models.TextChoices):
        CREDITED = "credited", _("credited to payable")
        PENDING = "pending", _("to fulfil")
        FULFILLED = "fulfilled", _("fulfilled")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="bonuses")
    rule = models.ForeignKey(BonusRule, on_delete=models.PROTECT, related_name="obligations")
    year = models.PositiveSmallIntegerField(_("year"))
    net_sales = models.DecimalField(_("annual net sales"), max_digits=14, decimal_places=2)
    amount_fen = models.BigIntegerField(_("cash (fen)"), default=0)
    transfer_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("fulfilment note"), blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("annual bonus owed")
        verbose_name_plural = _("annual bonuses owed")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["partner", "rule", "year"], name="bonus_once_per_year"),
            models.CheckConstraint(
                condition=Q(status="fulfilled", fulfilled_at__isnull=False) | ~Q(status="fulfilled"),
                name="bonus_fulfilled_has_time",
            ),
        ]
        permissions: ClassVar = [("fulfil_bonusobligation", _("Can mark annual bonuses fulfilled"))]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.year} {self.rule_id}"


class ReferralReward(models.Model):
    """The recruiter's reward for a recruit's first sale: a one-time amount plus a share of that sale. Once per
    recruit (the recruit is unique)."""

    recruiter = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="referral_rewards")
    recruit = models.OneToOneField(Partner, on_delete=models.PROTECT, related_name="recruited_reward")
    sale = models.OneToOneField(Sale, on_delete=models.PROTECT, related_name="+")
    bonus_fen = models.BigIntegerField(_("one-time reward (fen)"))
    share_fen = models.BigIntegerField(_("share of the first order (fen)"))
    transfer_id = models.BigIntegerField()
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("recruiting reward")
        verbose_name_plural = _("recruiting rewards")

    def __str__(self) -> str:
        return f"{self.recruiter_id} ← {self.recruit_id}"


class TierChange(models.Model):
    """An audited tier change: the monthly review (once per partner per month) or an operator's."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="tier_changes")
    period = models.CharField(_("month reviewed"), max_length=7, blank=True)
    from_tier = models.ForeignKey(PartnerTier, on_delete=models.PROTECT, related_name="+")
    to_tier = models.ForeignKey(PartnerTier, on_delete=models.PROTECT, related_name="+")
    tenure_months = models.PositiveIntegerField(_("tenure (months)"))
    trailing_sales = models.DecimalField(_("sales, last 12 months"), max_digits=14, decimal_places=2)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("changed at"))
    seen_at = models.DateTimeField(_("seen by the partner at"), null=True, blank=True)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ("-created_at",)
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["partner", "period"], condition=~Q(period=""), name="tier_review_once_per_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.from_tier_id} → {self.to_tier_id}"
