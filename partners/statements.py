"""Monthly statements, annual bonuses and payouts: every write to partners.Statement and BonusObligation.

`statement_issue` closes one partner's month: it computes the month's net sales (sales counted in the month minus
returns of them booked while it was open), the rebate band by band (partners.rebates), posts the rebate — and in
December the cash annual bonuses — to the partner's CNY payable, then records every movement of the payable since
the previous statement: opening + rebate + bonus + recruiting rewards − clawbacks − payouts = closing, checked
against the ledger balance. One statement per partner per month (UNIQUE; the ledger keys are deterministic too), so
a re-run of the job finds what exists and books nothing twice.

All of it runs under the partner's row lock (partners.sales), so no posting to this payable can fall between the
statement's ledger window and the next one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from partners import kinds
from partners.errors import MonthNotEnded, NothingToPay, StatementNotFound, StatementSuperseded
from partners.models import BonusObligation, BonusRule, Partner, Sale, Statement
from partners.periods import month_end, month_key, month_parse, month_shift, months_between, tz
from partners.rebates import Band, fen, rebate_lines, rebate_total
from partners.sales import partners_lock
from points.models import AccountKind
from points.selectors import partner_payable
from points.services import PartnerAccount, System, transfer_post

logger = logging.getLogger(__name__)

# How each kind moves a payable, and the statement column it lands in.
_COLUMNS = {
    kinds.REBATE: "rebate_fen",
    kinds.BONUS: "bonus_fen",
    kinds.REFERRAL: "referral_fen",
    kinds.CLAWBACK: "clawback_fen",
    kinds.REFERRAL_BACK: "clawback_fen",
    kinds.PAYOUT: "paid_fen",
}


class StatementDrift(RuntimeError):
    """The statement's sum disagrees with the ledger balance: never issued silently."""


@dataclass(frozen=True)
class MonthSales:
    sales: Decimal
    returns: Decimal  # negative or 0

    @property
    def net(self) -> Decimal:
        return self.sales + self.returns


def month_sales(*, partner_id: int, period: str) -> MonthSales:
    """Sales counted in a month and the returns of them booked while it was open (one query)."""
    totals = Sale.objects.filter(partner_id=partner_id, rebate_period=period).aggregate(
        sales=Sum("amount", filter=Q(original__isnull=True)), returns=Sum("amount", filter=Q(original__isnull=False))
    )
    return MonthSales(totals["sales"] or Decimal("0.00"), totals["returns"] or Decimal("0.00"))


def schedule_bands(partner: Partner) -> tuple[str, list[Band]]:
    schedule = partner.tier.schedule
    return schedule.method, [Band(b.lower, b.rate) for b in schedule.bands.all()]


def statement_issue(*, partner: Partner, period: str, now: datetime | None = None) -> tuple[Statement, bool]:
    """Issue `partner`'s statement for `period` (a month that has ended). Returns (statement, created)."""
    now = now or timezone.now()
    month_parse(period)
    zone = tz()
    if month_end(period, zone) > now:
        raise MonthNotEnded(details={"period": period})
    with transaction.atomic():
        partners_lock([partner.pk])
        existing = Statement.objects.filter(partner=partner, period=period).first()
        if existing is not None:
            return existing, False
        partner = Partner.objects.select_related("tier__schedule").get(pk=partner.pk)
        method, bands = schedule_bands(partner)
        figures = month_sales(partner_id=partner.pk, period=period)
        lines = rebate_lines(net_sales=figures.net, bands=bands, method=method)
        rebate = rebate_total(lines)
        if rebate > 0:
            transfer_post(
                key=f"partners.rebate:{partner.pk}:{period}",
                debit=System(AccountKind.REBATE),
                credit=PartnerAccount(partner.pk),
                amount=rebate,
                kind=kinds.REBATE,
                asset="CNY",
                reason=f"{period} 销售返利",
                reason_en=f"{period} sales rebate",
                now=now,
            )
        if period.endswith("-12"):
            _annual_bonuses(partner=partner, year=month_parse(period)[0], december_net=figures.net, now=now)
        previous = Statement.objects.filter(partner=partner, period__lt=period).order_by("-period").first()
        opening = previous.closing_fen if previous else 0
        since = previous.last_transfer_id if previous else 0
        columns, last_id = _movements(partner_id=partner.pk, since=since)
        closing = (
            opening
            + columns["rebate_fen"]
            + columns["bonus_fen"]
            + columns["referral_fen"]
            - columns["clawback_fen"]
            - columns["paid_fen"]
        )
        _account, balance = partner_payable(partner_id=partner.pk)
        if closing != balance:
            logger.error(
                "statement drift partner=%s period=%s closing=%s ledger=%s", partner.pk, period, closing, balance
            )
            raise StatementDrift(f"partner {partner.pk} {period}: statement {closing} != ledger {balance}")
        statement = Statement.objects.create(
            partner=partner,
            period=period,
            tier_name=partner.tier.name,
            tier_name_en=partner.tier.name_en,
            method=method,
            sales_total=figures.sales,
            returns_total=figures.returns,
            net_sales=figures.net,
            bands=[line.as_json() for line in lines],
            opening_fen=opening,
            closing_fen=closing,
            last_transfer_id=max(last_id, since),
            created_at=now,
            **columns,
        )
        return statement, True


def _movements(*, partner_id: int, since: int) -> tuple[dict[str, int], int]:
    """Sums of the payable's transfers after transfer id `since`, by statement column, and the last id (one query)."""
    columns = dict.fromkeys(set(_COLUMNS.values()), 0)
    account_id, _balance = partner_payable(partner_id=partner_id)
    if account_id is None:
        return columns, since
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kind, credit_id = %s, sum(amount), max(id) FROM points_transfer "
            "WHERE (credit_id = %s OR debit_id = %s) AND id > %s GROUP BY 1, 2",
            [account_id, account_id, account_id, since],
        )
        rows = cursor.fetchall()
    last = since
    for kind, is_credit, total, max_id in rows:
        column = _COLUMNS.get(kind)
        if column is None:
            raise StatementDrift(f"unexpected transfer kind {kind!r} on partner {partner_id}'s payable")
        credit_column = column in {"rebate_fen", "bonus_fen", "referral_fen"}
        if is_credit != credit_column:
            raise StatementDrift(f"transfer kind {kind!r} moves partner {partner_id}'s payable the wrong way")
        columns[column] += int(total)
        last = max(last, int(max_id))
    return columns, last


def _annual_bonuses(*, partner: Partner, year: int, december_net: Decimal, now: datetime) -> None:
    """Once a year, with the December statement: every active bonus whose threshold the year's net sales reach."""
    earlier = Statement.objects.filter(
        partner=partner, period__gte=f"{year:04d}-01", period__lte=f"{year:04d}-11"
    ).aggregate(total=Sum("net_sales"))["total"] or Decimal(0)
    year_net = earlier + december_net
    for rule in BonusRule.objects.filter(is_active=True, threshold__lte=year_net).order_by("pk"):
        if BonusObligation.objects.filter(partner=partner, rule=rule, year=year).exists():
            continue
        transfer_id = None
        amount = 0
        if rule.reward == BonusRule.Reward.CASH:
            amount = fen(rule.cash_amount)
            transfer_id = transfer_post(
                key=f"partners.bonus:{partner.pk}:{year}:{rule.pk}",
                debit=System(AccountKind.REBATE),
                credit=PartnerAccount(partner.pk),
                amount=amount,
                kind=kinds.BONUS,
                asset="CNY",
                reason=f"{year} 年度奖励：{rule.name}",
                reason_en=f"{year} annual bonus: {rule.name_en or rule.name}",
                now=now,
            ).transfer_id
        BonusObligation.objects.create(
            partner=partner,
            rule=rule,
            year=year,
            net_sales=year_net,
            amount_fen=amount,
            transfer_id=transfer_id,
            status=BonusObligation.Status.CREDITED if transfer_id else BonusObligation.Status.PENDING,
            created_at=now,
        )


def statements_issue_due(*, now: datetime | None = None) -> int:
    """The monthly job: every active partner's statements for each ended month since their last statement (or since
    they joined), oldest first, each in its own transaction. Returns how many were created; re-running creates none."""
    now = now or timezone.now()
    zone = tz()
    last_ended = month_shift(month_key(now, zone), -1)
    created = 0
    for partner in Partner.objects.filter(is_active=True).order_by("pk"):
        latest = Statement.objects.filter(partner=partner).order_by("-period").values_list("period", flat=True).first()
        joined = f"{partner.joined_at.year:04d}-{partner.joined_at.month:02d}"
        first = month_shift(latest, 1) if latest else joined
        for period in months_between(first, last_ended):
            try:
                _statement, was_created = statement_issue(partner=partner, period=period, now=now)
            except StatementDrift:
                break  # logged; the reconciliation report shows it, and the next run tries again
            created += was_created
    return created


def statement_pay(*, statement: Statement, actor_id: int | None, now: datetime | None = None) -> Statement:
    """Finance pays a statement: its payable (closing balance) leaves the partner's account to the rebates-paid
    account. Only the partner's latest statement can be paid (a later one already carries this one's balance);
    a statement with nothing payable (0 or a carried clawback) cannot. Paying again returns the paid statement."""
    now = now or timezone.now()
    with transaction.atomic():
        partners_lock([statement.partner_id])
        current = Statement.objects.filter(pk=statement.pk).first()
        if current is None:
            raise StatementNotFound()
        if current.paid_at is not None:
            return current
        if Statement.objects.filter(partner_id=current.partner_id, period__gt=current.period).exists():
            raise StatementSuperseded(details={"period": current.period})
        if current.closing_fen <= 0:
            raise NothingToPay(details={"payable_fen": current.closing_fen})
        posted = transfer_post(
            key=f"partners.payout:{current.pk}",
            debit=PartnerAccount(current.partner_id),
            credit=System(AccountKind.PAID),
            amount=current.closing_fen,
            kind=kinds.PAYOUT,
            asset="CNY",
            reason=f"{current.period} 对账单付款",
            reason_en=f"Payment of the {current.period} statement",
            actor_id=actor_id,
            source=current,
            now=now,
        )
        Statement.objects.filter(pk=current.pk, paid_at__isnull=True).update(
            paid_at=now, paid_by_id=actor_id, payout_transfer_id=posted.transfer_id, payout_fen=current.closing_fen
        )
        current.refresh_from_db()
        return current


def bonus_fulfil(*, obligation: BonusObligation, actor_id: int | None, note: str, now: datetime | None = None) -> bool:
    """Mark a non-cash annual bonus fulfilled (idempotent). Returns whether this call did it."""
    now = now or timezone.now()
    done = BonusObligation.objects.filter(pk=obligation.pk, status=BonusObligation.Status.PENDING).update(
        status=BonusObligation.Status.FULFILLED, fulfilled_at=now, fulfilled_by_id=actor_id, note=note.strip()[:2000]
    )
    return bool(done)
