"""Booking partner sales and returns (CSV import, the signed API, the admin): every write to partners.Sale.

A sale books into the month of `sold_at` (the programme's time zone) while that month has no statement yet; a sale
reported after its month's statement counts in the month it is booked. A return names its original sale (same
partner), must not exceed what is left of it (a conditional UPDATE on the original is the judge), and:

- if the original's month is still open, it just lowers that month's net sales (the rebate is computed at
  statement time on net sales);
- if the original's month already has a statement, it takes back its proportional share of that month's rebate
  at once — a CNY transfer from the partner's payable, which may go below zero (carried, never dropped) — and of
  a recruiting reward's share when the original was the recruit's rewarded first sale.

Proportional with cumulative rounding: the n-th return takes round(R × returned_so_far_incl / net) −
round(R × returned_so_far_excl / net), so returning everything takes back exactly R, never a fen more.

Every booking locks the partner's row first (and the recruiter's, in id order, for a first sale that pays a
recruiting reward): bookings, statements and payouts of one partner serialise on it, which is what makes each
statement's ledger window exact (partners.statements)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from partners import kinds
from partners.errors import (
    CurrencyMismatch,
    OriginalSaleNotFound,
    ReturnExceedsSale,
    SaleConflict,
    SaleInvalid,
)
from partners.models import ApiKey, Partner, ReferralReward, Sale, SaleBatch, Statement
from partners.periods import month_key, programme, tz
from partners.rebates import fen, percent_of_fen, share_fen
from points.models import AccountKind
from points.services import PartnerAccount, System, transfer_post

MAX_AMOUNT = Decimal("1000000000.00")  # one line: at most a billion yuan
MAX_QUANTITY = 10_000_000
FUTURE_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class SaleLine:
    """One line as a partner system or a CSV row states it (already parsed into types; `sale_line_parse` parses
    text). A return has `original_id` and negative quantity and amount."""

    external_id: str
    sold_at: datetime
    quantity: int
    amount: Decimal
    currency: str = "CNY"
    product: str = ""
    original_id: str = ""

    def same_as(self, sale: Sale) -> bool:
        return (
            sale.sold_at == self.sold_at
            and sale.quantity == self.quantity
            and sale.amount == self.amount
            and (sale.original.external_id if sale.original is not None else "") == self.original_id
        )


def _text(value: Any, field: str, *, max_length: int, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if (required and not text) or len(text) > max_length or not text.isprintable():
        raise SaleInvalid(details={field: f"required, printable, at most {max_length} characters"})
    return text


def sale_line_parse(raw: dict[str, Any], *, now: datetime | None = None) -> SaleLine:
    """A SaleLine from text fields (a CSV row or a JSON object): external_id, sold_at (ISO 8601; a date or a
    naive time is read in the programme's time zone), quantity, amount, currency (default CNY), product,
    original_id. Raises SaleInvalid / CurrencyMismatch naming the field."""
    now = now or timezone.now()
    if not isinstance(raw, dict):
        raise SaleInvalid(details={"line": "an object is required"})
    external_id = _text(raw.get("external_id"), "external_id", max_length=64)
    original_id = _text(raw.get("original_id"), "original_id", max_length=64, required=False)
    product = _text(raw.get("product"), "product", max_length=120, required=False)
    currency = _text(raw.get("currency") or "CNY", "currency", max_length=8).upper()
    if currency != "CNY":
        raise CurrencyMismatch(details={"currency": currency})
    sold_raw = raw.get("sold_at")
    try:
        text = _text(sold_raw, "sold_at", max_length=40)
        sold_at = datetime.fromisoformat(text)
    except (ValueError, SaleInvalid) as exc:
        raise SaleInvalid(details={"sold_at": "an ISO 8601 date or time is required"}) from exc
    if timezone.is_naive(sold_at):
        sold_at = sold_at.replace(tzinfo=tz())
    if sold_at > now + FUTURE_SLACK:
        raise SaleInvalid(details={"sold_at": "in the future"})
    quantity_raw = raw.get("quantity")
    if isinstance(quantity_raw, bool) or not isinstance(quantity_raw, int | str):
        raise SaleInvalid(details={"quantity": "a whole number is required"})
    try:
        quantity = int(str(quantity_raw).strip())
    except ValueError as exc:
        raise SaleInvalid(details={"quantity": "a whole number is required"}) from exc
    amount_raw = raw.get("amount")
    if isinstance(amount_raw, bool | float) or not isinstance(amount_raw, int | str | Decimal):
        raise SaleInvalid(details={"amount": "a decimal number as text (yuan, at most 2 places) is required"})
    try:
        amount = Decimal(str(amount_raw).strip())
    except InvalidOperation as exc:
        raise SaleInvalid(details={"amount": "a decimal number (yuan, at most 2 places) is required"}) from exc
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")) or abs(amount) > MAX_AMOUNT:
        raise SaleInvalid(details={"amount": "yuan with at most 2 decimal places, at most 1,000,000,000"})
    amount = amount.quantize(Decimal("0.01"))
    if quantity == 0 or amount == 0 or abs(quantity) > MAX_QUANTITY:
        raise SaleInvalid(details={"quantity": "must not be zero", "amount": "must not be zero"})
    if original_id:
        if quantity > 0 or amount > 0:
            raise SaleInvalid(details={"quantity": "a return has a negative quantity and amount"})
        if original_id == external_id:
            raise SaleInvalid(details={"original_id": "a return cannot return itself"})
    elif quantity < 0 or amount < 0:
        raise SaleInvalid(details={"original_id": "a return (negative line) must name its original sale"})
    return SaleLine(external_id, sold_at, quantity, amount, "CNY", product, original_id)


def partners_lock(partner_ids: list[int]) -> None:
    """Lock partners' rows in id order: every posting to a partner's payable happens under its lock (statements
    rely on it for their ledger window). Inside the caller's transaction."""
    list(Partner.objects.select_for_update().filter(pk__in=sorted(set(partner_ids))).order_by("pk").values("pk"))


def _closed(partner_id: int, period: str) -> Statement | None:
    return Statement.objects.filter(partner_id=partner_id, period=period).first()


def sale_book(
    *,
    partner: Partner,
    line: SaleLine,
    source: str,
    batch: SaleBatch | None = None,
    api_key: ApiKey | None = None,
    now: datetime | None = None,
) -> tuple[Sale, bool]:
    """Book one line for `partner`. Returns (sale, created). The same external id again with the same content is a
    replay (created False); with other content SaleConflict. Runs in its own transaction (or the caller's: a CSV
    import books all its lines in one)."""
    now = now or timezone.now()
    with transaction.atomic():
        recruiter_id = partner.referred_by_id
        needs_recruiter = (
            recruiter_id is not None
            and not line.original_id
            and not ReferralReward.objects.filter(recruit_id=partner.pk).exists()
        )
        partners_lock([partner.pk, recruiter_id] if needs_recruiter and recruiter_id else [partner.pk])
        existing = Sale.objects.select_related("original").filter(partner=partner, external_id=line.external_id).first()
        if existing is not None:
            if line.same_as(existing):
                return existing, False
            raise SaleConflict(details={"external_id": line.external_id})
        zone = tz()
        period = month_key(line.sold_at, zone)
        if line.original_id:
            return _return_book(
                partner=partner, line=line, period=period, source=source, batch=batch, api_key=api_key, now=now
            ), True
        rebate_period = period if _closed(partner.pk, period) is None else month_key(now, zone)
        sale = Sale.objects.create(
            partner=partner,
            external_id=line.external_id,
            sold_at=line.sold_at,
            period=period,
            product=line.product,
            quantity=line.quantity,
            amount=line.amount,
            rebate_period=rebate_period,
            source=source,
            batch=batch,
            api_key=api_key,
            created_at=now,
        )
        if needs_recruiter and recruiter_id is not None:
            _referral_reward(recruit=partner, recruiter_id=recruiter_id, sale=sale, now=now)
        return sale, True


def _referral_reward(*, recruit: Partner, recruiter_id: int, sale: Sale, now: datetime) -> None:
    """The recruiter's one-time reward plus its share of the recruit's first sale (once per recruit)."""
    if ReferralReward.objects.filter(recruit_id=recruit.pk).exists():
        return
    settings_row = programme()
    bonus = fen(settings_row.referral_bonus)
    share = percent_of_fen(sale.amount, settings_row.referral_share)
    if bonus + share <= 0:
        return
    posted = transfer_post(
        key=f"partners.referral:{recruit.pk}",
        debit=System(AccountKind.REBATE),
        credit=PartnerAccount(recruiter_id),
        amount=bonus + share,
        kind=kinds.REFERRAL,
        asset="CNY",
        reason=f"推荐新伙伴 {recruit.code}",
        reason_en=f"Recruited partner {recruit.code}",
        source=sale,
        now=now,
    )
    ReferralReward.objects.create(
        recruiter_id=recruiter_id,
        recruit=recruit,
        sale=sale,
        bonus_fen=bonus,
        share_fen=share,
        transfer_id=posted.transfer_id,
        created_at=now,
    )


def _return_book(
    *,
    partner: Partner,
    line: SaleLine,
    period: str,
    source: str,
    batch: SaleBatch | None,
    api_key: ApiKey | None,
    now: datetime,
) -> Sale:
    original = Sale.objects.filter(partner=partner, external_id=line.original_id, original__isnull=True).first()
    if original is None:
        raise OriginalSaleNotFound(details={"original_id": line.original_id})
    amount, quantity = -line.amount, -line.quantity
    taken = Sale.objects.filter(
        pk=original.pk,
        returned_amount__lte=original.amount - amount,
        returned_quantity__lte=original.quantity - quantity,
    ).update(returned_amount=original.returned_amount + amount, returned_quantity=original.returned_quantity + quantity)
    # The partner's row lock serialises bookings, so `original` read above is current; the conditional UPDATE and the
    # CHECK constraint are the database's own refusal should that ever not hold.
    if not taken:
        raise ReturnExceedsSale(
            details={
                "original_id": line.original_id,
                "left_amount": str(original.amount - original.returned_amount),
                "left_quantity": original.quantity - original.returned_quantity,
            }
        )
    statement = _closed(partner.pk, original.rebate_period)
    sale = Sale.objects.create(
        partner=partner,
        external_id=line.external_id,
        sold_at=line.sold_at,
        period=period,
        product=line.product or original.product,
        quantity=line.quantity,
        amount=line.amount,
        original=original,
        rebate_period="" if statement is not None else original.rebate_period,
        source=source,
        batch=batch,
        api_key=api_key,
        created_at=now,
    )
    if statement is not None:
        _clawback(partner=partner, statement=statement, sale=sale, amount=amount, now=now)
    reward = ReferralReward.objects.filter(sale=original).first()
    if reward is not None and reward.share_fen > 0:
        _referral_clawback(reward=reward, original=original, sale=sale, amount=amount, now=now)
    return sale


def _clawback(*, partner: Partner, statement: Statement, sale: Sale, amount: Decimal, now: datetime) -> None:
    earlier = -(
        Sale.objects.filter(
            partner=partner, original__rebate_period=statement.period, original__isnull=False, rebate_period=""
        )
        .exclude(pk=sale.pk)
        .aggregate(total=Sum("amount"))["total"]
        or Decimal(0)
    )
    back = share_fen(statement.rebate_fen, earlier + amount, statement.net_sales) - share_fen(
        statement.rebate_fen, earlier, statement.net_sales
    )
    if back <= 0:
        return
    transfer_post(
        key=f"partners.clawback:{sale.pk}",
        debit=PartnerAccount(partner.pk),
        credit=System(AccountKind.REBATE),
        amount=back,
        kind=kinds.CLAWBACK,
        asset="CNY",
        reason=f"退货 {sale.external_id}（{statement.period} 返利）",
        reason_en=f"Return {sale.external_id} ({statement.period} rebate)",
        source=sale,
        now=now,
    )
    Sale.objects.filter(pk=sale.pk).update(clawback_fen=back)
    sale.clawback_fen = back


def _referral_clawback(*, reward: ReferralReward, original: Sale, sale: Sale, amount: Decimal, now: datetime) -> None:
    earlier = original.returned_amount  # returned before this return (read before the UPDATE)
    back = share_fen(reward.share_fen, earlier + amount, original.amount) - share_fen(
        reward.share_fen, earlier, original.amount
    )
    if back <= 0:
        return
    partners_lock([reward.recruiter_id])
    transfer_post(
        key=f"partners.referral_back:{sale.pk}",
        debit=PartnerAccount(reward.recruiter_id),
        credit=System(AccountKind.REBATE),
        amount=back,
        kind=kinds.REFERRAL_BACK,
        asset="CNY",
        reason=f"推荐奖励随退货 {sale.external_id} 收回",
        reason_en=f"Recruiting reward share taken back for return {sale.external_id}",
        source=sale,
        now=now,
    )
