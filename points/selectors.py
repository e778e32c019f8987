"""Reads of the ledger shared by pages, API, admin and reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from points import kinds
from points.models import Account, AccountKind, OwnerType, Transfer

EXPIRING_SOON = timedelta(days=30)


@dataclass(frozen=True)
class Balance:
    spendable: int
    pending: int
    expiring_soon: int
    next_expiry_at: datetime | None
    next_expiry_amount: int
    next_available_at: datetime | None


def member_account(*, user_id: int, asset: str = "PTS") -> Account | None:
    return Account.objects.filter(
        owner_type=OwnerType.MEMBER,
        kind=AccountKind.WALLET,
        user_id=user_id,
        asset_id=asset,
        campaign_id=None,
        partner_id=None,
    ).first()


def member_account_id(*, user_id: int, asset: str = "PTS") -> int | None:
    """The member's wallet id (points_member_account_find, one raw query), or None without one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT points_member_account_find(%s, %s)", [user_id, asset])
        row = cursor.fetchone()
    return None if row is None else row[0]


def balance_for(*, user_id: int, asset: str = "PTS", now: datetime | None = None) -> Balance:
    """Spendable points now, pending points (not yet available) and what expires soonest: one SQL statement,
    points_balance() (points/sql/points_balance.sql), the one home of what counts towards a balance."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM points_balance(%s, %s, %s, %s * interval '1 second')",
            [user_id, asset, now, EXPIRING_SOON.total_seconds()],
        )
        row = cursor.fetchone()
    return Balance(*row)


def history_dates_validate(*, date_from: date | None, date_to: date | None) -> None:
    """The one check for history date filters (page form and API): an ordered range that ends before the last
    representable date (history_for needs the day after `date_to`)."""
    errors: dict[str, list[str]] = {}
    if date_to is not None and date_to >= date.max:
        errors["date_to"] = [gettext("Enter a valid date.")]
    elif date_from and date_to and date_from > date_to:
        errors["date_to"] = [gettext("The end date is before the start date.")]
    if errors:
        raise ValidationError(errors)


def history_for(
    *,
    user_id: int,
    asset: str = "PTS",
    kind: str | None = None,
    campaign_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Transfer]:
    """The member's postings, newest first (cursor-paginate on -id), with the fields a history shows and the
    amount signed (`signed_amount`: positive earned, negative spent). The wallet is found with one raw query."""
    account_id = member_account_id(user_id=user_id, asset=asset)
    if account_id is None:
        return Transfer.objects.none()
    qs = Transfer.objects.filter(Q(debit_id=account_id) | Q(credit_id=account_id)).only(
        "id", "kind", "amount", "reason", "reason_en", "campaign_id", "reverses_id", "created_at"
    )
    if kind:
        qs = qs.filter(kind=kind)
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id)
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(created_at__gte=datetime.combine(date_from, datetime.min.time(), tzinfo=tz))
    if date_to:
        qs = qs.filter(created_at__lt=datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tzinfo=tz))
    return qs.extra(
        select={"signed_amount": "CASE WHEN credit_id = %s THEN amount ELSE -amount END"},
        select_params=[account_id],
    ).order_by("-id")


@dataclass(frozen=True)
class HistoryPage:
    entries: list[Transfer]
    next_before: int | None  # pass as `before` to get the next (older) page


def history_page(*, user_id: int, before: int | None = None, size: int = 20, **filters: Any) -> HistoryPage:
    """One page of history_for, keyset-paginated on the transfer id (stable while new postings arrive)."""
    qs = history_for(user_id=user_id, **filters)
    if before:
        qs = qs.filter(id__lt=before)
    entries = list(qs[: size + 1])
    more = len(entries) > size
    entries = entries[:size]
    return HistoryPage(entries, entries[-1].pk if more else None)


@dataclass(frozen=True)
class CampaignTotals:
    issued: int
    consumed: int
    expired: int
    outstanding: int


def campaign_totals(*, campaign_id: int, asset: str = "PTS") -> CampaignTotals:
    """Points a campaign gave to members, members spent, and that expired."""
    member = Q(credit__owner_type=OwnerType.MEMBER)
    qs = Transfer.objects.filter(campaign_id=campaign_id, asset_id=asset)
    agg = qs.aggregate(
        issued=Coalesce(Sum("amount", filter=member & ~Q(kind__in=[kinds.REVERSAL, kinds.VOID])), 0),
        returned=Coalesce(Sum("amount", filter=Q(debit__owner_type=OwnerType.MEMBER, kind=kinds.REVERSAL)), 0),
        consumed=Coalesce(
            Sum(
                "amount",
                filter=Q(debit__owner_type=OwnerType.MEMBER) & ~Q(kind__in=[kinds.EXPIRE, kinds.REVERSAL, kinds.HOLD]),
            ),
            0,
        ),
        captured=Coalesce(Sum("amount", filter=Q(kind=kinds.CAPTURE)), 0),
        refunded=Coalesce(Sum("amount", filter=member & Q(kind=kinds.REVERSAL)), 0),
        expired=Coalesce(Sum("amount", filter=Q(kind=kinds.EXPIRE)), 0),
    )
    issued = agg["issued"] - agg["returned"]
    consumed = agg["consumed"] + agg["captured"] - agg["refunded"]
    return CampaignTotals(issued, consumed, agg["expired"], issued - consumed - agg["expired"])


def partner_payable(*, partner_id: int, asset: str = "CNY") -> tuple[int | None, int]:
    """A partner's payable account id and balance (fen; negative: a clawback carried), (None, 0) before any posting."""
    row = (
        Account.objects.filter(owner_type="partner", kind="payable", partner_id=partner_id, asset_id=asset)
        .values_list("pk", "balance")
        .first()
    )
    return (row[0], row[1]) if row else (None, 0)


def partner_payables(*, partner_ids: Iterable[int], asset: str = "CNY") -> dict[int, int]:
    """Several partners' payable balances in fen, by partner id, in one query (a partner never posted to is absent:
    its balance is 0)."""
    rows = Account.objects.filter(
        owner_type="partner", kind="payable", partner_id__in=list(partner_ids), asset_id=asset
    ).values_list("partner_id", "balance")
    return {int(partner_id): int(balance) for partner_id, balance in rows if partner_id is not None}
