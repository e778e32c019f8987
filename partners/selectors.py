"""Reads about partner keys shared by the services that serve partner requests, and the partner portal's reads
(the dashboard, statements) shared by its pages and the partner app's API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Count, Window
from django.utils.translation import gettext_lazy as _

from config.i18n import localized
from partners.errors import StatementNotFound
from partners.models import ApiKey, Partner, PartnerTier, PartnerUser, ReferralReward, Statement, TierChange
from partners.periods import month_key, month_parse, tz
from partners.rebates import Band, BandLine, band_progress, rebate_lines, rebate_total, yuan
from partners.statements import month_sales, schedule_bands
from points.selectors import partner_payable


def api_key_campaign_ids(*, api_key: ApiKey) -> frozenset[int]:
    """The campaigns a key may report for: its default campaign and the others it lists."""
    allowed = set(api_key.campaigns.values_list("pk", flat=True))
    if api_key.default_campaign_id is not None:
        allowed.add(api_key.default_campaign_id)
    return frozenset(allowed)


# --- The partner portal ------------------------------------------------------------------------------------------
# What a partner user reads about their own partner (pages and the partner app's API). A user belongs to at most
# one partner (PartnerUser), found from the user only: no read here takes a partner id from the request.

RECRUITS_SHOWN = 100


def partner_for_user(user: Any) -> Partner | None:
    """The partner a signed-in user works for (with its tier and schedule), or None for anyone else (members,
    staff: partner_login_add refuses staff accounts). One query."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    login = PartnerUser.objects.select_related("partner__tier__schedule").filter(user_id=user.pk).first()
    return login.partner if login is not None else None


@dataclass(frozen=True)
class TierView:
    rank: int
    name: str
    agency_discount: Decimal
    new_product_priority: bool
    marketing_plan: str


@dataclass(frozen=True)
class TierChangeView:
    id: int
    from_tier: str
    to_tier: str
    upgrade: bool
    created_at: datetime


@dataclass(frozen=True)
class RecruitView:
    company: str
    kind: str  # dealer / agent
    kind_label: str
    joined_at: date
    rewarded: bool


@dataclass(frozen=True)
class RewardView:
    recruit: str
    bonus_fen: int
    share_fen: int
    created_at: datetime

    @property
    def total_fen(self) -> int:
        return self.bonus_fen + self.share_fen

    @property
    def total(self) -> Decimal:
        return yuan(self.total_fen)


@dataclass(frozen=True)
class Dashboard:
    """A partner's month so far: sales, band progress, the estimated rebate, tier and benefits, payable,
    unseen tier changes, the recruiting code, recruits and recruiting rewards."""

    period: str
    sales: Decimal
    returns: Decimal  # negative or 0
    net: Decimal
    method: str
    bands: list[Band]
    current_band: Band
    next_band: Band | None
    to_next: Decimal | None  # CNY more that reaches the next band (None: the top band is reached)
    lines: list[BandLine]
    rebate_fen: int
    tier: TierView
    payable_fen: int
    tier_changes: list[TierChangeView]
    referral_code: str
    recruits: list[RecruitView]
    recruits_total: int
    rewards: list[RewardView]

    @property
    def rebate(self) -> Decimal:
        return yuan(self.rebate_fen)

    @property
    def payable(self) -> Decimal:
        return yuan(self.payable_fen)

    @property
    def rewards_fen(self) -> int:
        return sum(reward.total_fen for reward in self.rewards)

    @property
    def rewards_total(self) -> Decimal:
        return yuan(self.rewards_fen)

    @property
    def progress_percent(self) -> int:
        """How far the month's net sales are from the current band's floor to the next band's (0-100; 100 at the
        top band)."""
        if self.next_band is None:
            return 100
        width = self.next_band.lower - self.current_band.lower
        done = max(self.net, Decimal(0)) - self.current_band.lower
        return int(min(max(done / width * 100, Decimal(0)), Decimal(100))) if width > 0 else 100


def _tier_view(tier: PartnerTier) -> TierView:
    return TierView(
        rank=tier.rank,
        name=localized(tier, "name"),
        agency_discount=tier.agency_discount,
        new_product_priority=tier.new_product_priority,
        marketing_plan=localized(tier, "marketing_plan"),
    )


def dashboard(partner: Partner, now: datetime) -> Dashboard:
    """`partner`'s dashboard at `now` (texts in the active language). Seven queries whatever the data."""
    period = month_key(now, tz())
    method, bands = schedule_bands(partner)
    figures = month_sales(partner_id=partner.pk, period=period)
    progress = band_progress(net_sales=figures.net, bands=bands)
    lines = rebate_lines(net_sales=figures.net, bands=bands, method=method)
    _account, payable = partner_payable(partner_id=partner.pk)
    changes = [
        TierChangeView(
            id=change.pk,
            from_tier=localized(change.from_tier, "name"),
            to_tier=localized(change.to_tier, "name"),
            upgrade=change.to_tier.rank > change.from_tier.rank,
            created_at=change.created_at,
        )
        for change in TierChange.objects.filter(partner_id=partner.pk, seen_at__isnull=True)
        .select_related("from_tier", "to_tier")
        .order_by("-created_at", "-pk")[:5]
    ]
    recruit_rows = list(
        Partner.objects.filter(referred_by_id=partner.pk)
        .annotate(total=Window(Count("pk")))
        .order_by("-joined_at", "-pk")
        .values("company", "kind", "joined_at", "recruited_reward__pk", "total")[:RECRUITS_SHOWN]
    )
    kinds = dict(Partner.Kind.choices)
    rewards = [
        RewardView(
            recruit=row["recruit__company"],
            bonus_fen=row["bonus_fen"],
            share_fen=row["share_fen"],
            created_at=row["created_at"],
        )
        for row in ReferralReward.objects.filter(recruiter_id=partner.pk)
        .order_by("-created_at", "-pk")
        .values("recruit__company", "bonus_fen", "share_fen", "created_at")
    ]
    return Dashboard(
        period=period,
        sales=figures.sales,
        returns=figures.returns,
        net=figures.net,
        method=method,
        bands=bands,
        current_band=progress.current,
        next_band=progress.next,
        to_next=progress.to_next,
        lines=lines,
        rebate_fen=rebate_total(lines),
        tier=_tier_view(partner.tier),
        payable_fen=payable,
        tier_changes=changes,
        referral_code=partner.referral_code,
        recruits=[
            RecruitView(
                company=row["company"],
                kind=row["kind"],
                kind_label=str(kinds.get(row["kind"], row["kind"])),
                joined_at=row["joined_at"],
                rewarded=row["recruited_reward__pk"] is not None,
            )
            for row in recruit_rows
        ],
        recruits_total=recruit_rows[0]["total"] if recruit_rows else 0,
        rewards=rewards,
    )


# --- Statements ------------------------------------------------------------------------------------------------


class StatementStatus(models.TextChoices):
    PAID = "paid", _("paid")
    UNPAID = "unpaid", _("unpaid")
    CARRIED = "carried", _("carried into a later statement")
    NOTHING_DUE = "nothing_due", _("nothing payable")


def statement_status(*, paid: bool, closing_fen: int, superseded: bool) -> StatementStatus:
    """Paid; else carried when a later statement exists (it includes this balance); else unpaid when something is
    payable; else nothing payable (0, or a clawback carried to be offset by later rebates)."""
    if paid:
        return StatementStatus.PAID
    if superseded:
        return StatementStatus.CARRIED
    return StatementStatus.UNPAID if closing_fen > 0 else StatementStatus.NOTHING_DUE


@dataclass(frozen=True)
class StatementRow:
    period: str
    net_sales: Decimal
    rebate_fen: int
    closing_fen: int
    paid_at: datetime | None
    status: StatementStatus

    @property
    def rebate(self) -> Decimal:
        return yuan(self.rebate_fen)

    @property
    def closing(self) -> Decimal:
        return yuan(self.closing_fen)


def statements_for(partner: Partner) -> list[StatementRow]:
    """The partner's statements, newest first (one query)."""
    rows = (
        Statement.objects.filter(partner_id=partner.pk)
        .order_by("-period")
        .values("period", "net_sales", "rebate_fen", "closing_fen", "paid_at")
    )
    out = []
    for index, row in enumerate(rows):
        status = statement_status(paid=row["paid_at"] is not None, closing_fen=row["closing_fen"], superseded=index > 0)
        out.append(StatementRow(status=status, **row))
    return out


@dataclass(frozen=True)
class StatementLine:
    """One band of a statement's rebate, in yuan."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal
    base: Decimal
    amount_fen: int

    @property
    def amount(self) -> Decimal:
        return yuan(self.amount_fen)


@dataclass(frozen=True)
class StatementView:
    statement: Statement
    status: StatementStatus
    tier_name: str
    lines: list[StatementLine]

    @property
    def rebate(self) -> Decimal:
        return yuan(self.statement.rebate_fen)

    @property
    def bonus(self) -> Decimal:
        return yuan(self.statement.bonus_fen)

    @property
    def referral(self) -> Decimal:
        return yuan(self.statement.referral_fen)

    @property
    def clawback(self) -> Decimal:
        return yuan(self.statement.clawback_fen)

    @property
    def paid(self) -> Decimal:
        return yuan(self.statement.paid_fen)

    @property
    def opening(self) -> Decimal:
        return yuan(self.statement.opening_fen)

    @property
    def closing(self) -> Decimal:
        return yuan(self.statement.closing_fen)

    @property
    def payout(self) -> Decimal:
        return yuan(self.statement.payout_fen)


def statement_for(partner: Partner, period: str) -> StatementView:
    """`partner`'s statement for the month `period` ("YYYY-MM"). StatementNotFound for a malformed month and for a
    month the partner has no statement for: another partner's month is addressed the same way and is never found.
    Two queries."""
    try:
        month_parse(period)
    except ValueError:
        raise StatementNotFound(details={"period": str(period)[:20]}) from None
    statement = Statement.objects.filter(partner_id=partner.pk, period=period).first()
    if statement is None:
        raise StatementNotFound(details={"period": period})
    superseded = Statement.objects.filter(partner_id=partner.pk, period__gt=period).exists()
    lines = [
        StatementLine(
            lower=Decimal(line["lower"]),
            upper=None if line.get("upper") is None else Decimal(line["upper"]),
            rate=Decimal(line["rate"]),
            base=Decimal(line["base"]),
            amount_fen=int(line["amount_fen"]),
        )
        for line in statement.bands or []
    ]
    return StatementView(
        statement=statement,
        status=statement_status(
            paid=statement.paid_at is not None, closing_fen=statement.closing_fen, superseded=superseded
        ),
        tier_name=localized(statement, "tier_name"),
        lines=lines,
    )
