"""THE LEDGER. Tables and database-enforced rules only; every write goes through points.services.

Rules the database itself enforces (constraints here, triggers and functions in migrations/0002_sql.py):
- a transfer moves a positive integer amount of one asset between two different accounts;
- transfers are immutable (UPDATE/DELETE raise); corrections are reversal transfers, at most one per transfer;
- idempotency keys are unique; member wallets never go negative; lots never go below zero or above their amount.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from config.i18n import localized
from points import kinds


class Asset(models.Model):
    """What a ledger amount counts: PTS (points, whole numbers) or CNY (partner rebates, counted in fen)."""

    code = models.CharField(_("asset code"), max_length=3, primary_key=True)
    name = models.CharField(_("name"), max_length=40)
    minor_units = models.PositiveSmallIntegerField(_("decimal places"), default=0)

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")

    def __str__(self) -> str:
        return self.code


class OwnerType(models.TextChoices):
    MEMBER = "member", _("member")
    CAMPAIGN = "campaign", _("campaign")
    PARTNER = "partner", _("partner")
    SYSTEM = "system", _("system")


class AccountKind(models.TextChoices):
    WALLET = "wallet", _("member wallet")
    ISSUANCE = "issuance", _("issuance")
    SPEND = "spend", _("spending")
    EXPIRY = "expiry", _("expired points")
    PRIZE = "prize", _("prize costs")
    ADJUSTMENT = "adjustment", _("manual adjustments")
    HOLDS = "holds", _("held points")
    PAYABLE = "payable", _("partner payable")
    REBATE = "rebate", _("rebate expense")
    PAID = "paid", _("rebates paid out")


class Account(models.Model):
    """One balance of one asset. Member wallets keep `balance` up to date on every posting (it is their own
    row, so no contention). System and campaign accounts are `deferred`: postings append to AccountDelta and a
    rollup folds them into `balance`, so the hot path never updates one shared row (DESIGN §4.6)."""

    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, verbose_name=_("asset"))
    owner_type = models.CharField(_("owner type"), max_length=16, choices=OwnerType.choices)
    kind = models.CharField(_("kind"), max_length=24, choices=AccountKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
        verbose_name=_("member"),
    )
    # Campaigns and partners are referenced by id only: the ledger imports no other app (DESIGN §3).
    campaign_id = models.BigIntegerField(_("campaign id"), null=True, blank=True)
    partner_id = models.BigIntegerField(_("partner id"), null=True, blank=True)
    balance = models.BigIntegerField(_("balance"), default=0)
    deferred = models.BooleanField(_("deferred balance"), default=False)
    no_negative = models.BooleanField(_("never negative"), default=False)
    tracks_lots = models.BooleanField(_("tracks lots"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(no_negative=False) | Q(balance__gte=0), name="account_no_negative"),
            models.CheckConstraint(
                condition=Q(owner_type="member", user__isnull=False) | ~Q(owner_type="member"),
                name="account_member_has_user",
            ),
            models.CheckConstraint(
                condition=~Q(deferred=True, no_negative=True), name="account_deferred_cannot_guard_negative"
            ),
            models.UniqueConstraint(
                fields=["owner_type", "kind", "user", "campaign_id", "partner_id", "asset"],
                name="account_identity_unique",
                nulls_distinct=False,
            ),
        ]
        permissions: ClassVar = [
            ("adjust_points", _("Can adjust members' points")),
            ("export_ledger", _("Can export the ledger")),
        ]

    def __str__(self) -> str:
        owner = f"user {self.user_id}" if self.user_id else f"campaign {self.campaign_id or '-'}"
        return f"{self.asset_id}:{self.owner_type}:{self.kind} ({owner})"


class Transfer(models.Model):
    """One immutable double-entry posting: `amount` of `asset` leaves `debit` and arrives in `credit`."""

    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    # No database FOREIGN KEYs to accounts, assets or content types: every FK check takes a KEY SHARE lock on
    # the referenced row, and a system account referenced by every posting would become the hot row the
    # ledger is designed to avoid (multixact contention). points_post() checks both accounts exist, accounts
    # can never be deleted (trigger), and the reconciliation job looks for orphans. See docs/adr/0002.
    # Indexes are few on purpose: each one is written (and WAL-logged) by every posting.
    asset = models.ForeignKey(
        Asset, on_delete=models.PROTECT, db_constraint=False, db_index=False, verbose_name=_("asset")
    )
    debit = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="debits",
        verbose_name=_("debit"),
    )
    credit = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="credits",
        verbose_name=_("credit"),
    )
    amount = models.BigIntegerField(_("amount"))
    # A slug registered by the app that owns it (points.kinds), validated by points.services; no choices here, so
    # a new kind needs no ledger migration.
    kind = models.CharField(_("kind"), max_length=24)
    # What the member reads, in both languages (reason_en blank: the Chinese text is shown to everyone).
    reason = models.TextField(_("reason"), blank=True)
    reason_en = models.TextField(_("reason (English)"), blank=True, db_default="")
    campaign_id = models.BigIntegerField(_("campaign id"), null=True, blank=True)
    source_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_constraint=False,
        db_index=False,
        verbose_name=_("source type"),
    )
    source_id = models.CharField(_("source id"), max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("actor"),
    )
    reverses = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        db_index=False,
        verbose_name=_("reverses"),
    )
    created_at = models.DateTimeField(_("created at"), db_default=models.functions.Now())

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=~Q(debit=F("credit")), name="transfer_distinct_accounts"),
            # A transfer is reversed at most once (partial: the NULLs of ordinary postings cost no index entries).
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="transfer_reversed_once"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["debit", "-id"], name="transfer_debit_idx"),
            models.Index(fields=["credit", "-id"], name="transfer_credit_idx"),
            # Per-campaign totals: partial, so system-only postings without a campaign add no entry.
            models.Index(fields=["campaign_id"], condition=Q(campaign_id__isnull=False), name="transfer_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.amount} {self.asset_id}"

    @property
    def kind_label(self) -> str:
        """The kind's registered label in the reader's language."""
        return kinds.label(self.kind)

    @property
    def display_reason(self) -> str:
        """The reason in the reader's language."""
        return localized(self, "reason")


class AccountDelta(models.Model):
    """A not-yet-rolled-up change to a deferred (system) account. Insert-only on the hot path; the rollup
    deletes rows and adds them to Account.balance in one statement."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, db_constraint=False, db_index=False, related_name="deltas"
    )
    amount = models.BigIntegerField()
    transfer_id = models.BigIntegerField(null=True)

    class Meta:
        # No secondary index: deltas are only appended and, by the rollup, read and deleted all at once.
        verbose_name = _("pending system balance change")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount:+d}"


class Lot(models.Model):
    """Points credited to a member by one transfer; spent soonest-expiring first. Points whose available_at is
    in the future are pending: shown, not spendable."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, db_index=False, related_name="lots")
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, db_index=False, related_name="lots")
    campaign_id = models.BigIntegerField(null=True, blank=True)
    amount = models.BigIntegerField()
    remaining = models.BigIntegerField()
    available_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="lot_amount_positive"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("amount")), name="lot_remaining_in_range"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["account", "expires_at", "id"], condition=Q(remaining__gt=0), name="lot_open_idx"),
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="lot_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"lot {self.pk}: {self.remaining}/{self.amount}"


class LotConsumption(models.Model):
    """Which lots a debit used, and how much of each (so reversals restore points with their original expiry)."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, db_index=False, related_name="consumptions")
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, db_index=False, related_name="consumptions")
    amount = models.BigIntegerField()

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="consumption_amount_positive"),
        ]
        indexes: ClassVar = [models.Index(fields=["transfer"], name="consumption_transfer_idx")]

    def __str__(self) -> str:
        return f"{self.transfer_id} used {self.amount} of lot {self.lot_id}"


class Hold(models.Model):
    """Two-phase spend: points move to the holds account, then are captured (spent) or voided (returned)."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        CAPTURED = "captured", _("captured")
        VOIDED = "voided", _("voided")
        RETURNED = "returned", _("returned after capture")

    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    amount = models.BigIntegerField(_("amount"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    place_transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="+")
    settle_transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.TextField(blank=True)
    reason_en = models.TextField(blank=True, db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(state="pending", settle_transfer__isnull=True)
                | (~Q(state="pending") & Q(settle_transfer__isnull=False)),
                name="hold_settled_has_transfer",
            ),
        ]

    def __str__(self) -> str:
        return f"hold {self.pk} {self.amount} {self.state}"


class ExpiryPolicy(models.Model):
    """When points earned in a campaign expire. `campaign_id` NULL is the default for campaigns without one.

    One source of truth per policy: a campaign's row mirrors the campaign's own fields and is written only by
    campaigns.services.campaign_save (the ledger admin shows it read-only); the default row is edited in the ledger
    admin. The rule is applied by the SQL function points_expiry_at(), which reads this table at posting time."""

    class Rule(models.TextChoices):
        NEVER = "never", _("never")
        DAYS = "days", _("N days after earning")
        MONTH_END = "month_end", _("end of the month")
        YEAR_END = "year_end", _("end of the year")

    campaign_id = models.BigIntegerField(_("campaign id"), null=True, blank=True)
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, default="PTS")
    rule = models.CharField(_("rule"), max_length=10, choices=Rule.choices, default=Rule.NEVER)
    days = models.PositiveIntegerField(_("days"), null=True, blank=True)
    timezone = models.CharField(_("timezone"), max_length=64, default="Asia/Shanghai")

    class Meta:
        verbose_name = _("expiry policy")
        verbose_name_plural = _("expiry policies")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["campaign_id", "asset"], name="expiry_policy_unique", nulls_distinct=False),
            models.CheckConstraint(condition=~Q(rule="days") | Q(days__gt=0), name="expiry_policy_days"),
            models.CheckConstraint(
                condition=Q(rule__in=["never", "days", "month_end", "year_end"]), name="expiry_policy_rule_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id or 'default'}:{self.asset_id}:{self.rule}"


class ReconciliationRun(models.Model):
    """One audit of the ledger. Drift is recorded and reported, never fixed silently."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    ok = models.BooleanField(_("ok"))
    accounts_checked = models.PositiveIntegerField(_("accounts checked"), default=0)
    drift = models.JSONField(_("drift"), default=dict, blank=True)

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'OK' if self.ok else 'DRIFT'}"
