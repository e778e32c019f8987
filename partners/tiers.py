"""Partner tiers: the monthly review (Celery) and operators' changes — every write to Partner.tier and TierChange.

The review, run on the 1st of each month in the programme's time zone, moves each active partner UP to the highest
tier whose minimum tenure (whole months since joining, to the first of the month) and minimum net sales over the
last twelve whole months they meet. It never moves anyone down: a downgrade is an operator's audited decision
(`partner_tier_set`). One review per partner per month (UNIQUE (partner, period) on TierChange; a partner who stays
put leaves no row, and a re-run finds the same answer), so re-running the job changes nothing. The change is
announced on the partner's portal until a partner user dismisses it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from partners.errors import PartnerNotFound
from partners.models import Partner, PartnerTier, Sale, TierChange
from partners.periods import full_months, month_key, month_shift, month_start, tz
from partners.sales import partners_lock


def trailing_sales(*, partner_id: int, period: str) -> Decimal:
    """Net sales counted in the twelve whole months before `period` (one query)."""
    first, last = month_shift(period, -12), month_shift(period, -1)
    total = Sale.objects.filter(partner_id=partner_id, rebate_period__gte=first, rebate_period__lte=last).aggregate(
        total=Sum("amount")
    )["total"]
    return total or Decimal("0.00")


def tier_eligible(*, tenure_months: int, sales: Decimal) -> PartnerTier | None:
    return (
        PartnerTier.objects.filter(min_tenure_months__lte=tenure_months, min_trailing_sales__lte=sales)
        .order_by("-rank")
        .first()
    )


def partner_tier_review(*, partner: Partner, now: datetime | None = None) -> TierChange | None:
    """Review one partner for the current month; the upgrade made, or None."""
    now = now or timezone.now()
    zone = tz()
    period = month_key(now, zone)
    with transaction.atomic():
        partners_lock([partner.pk])
        partner = Partner.objects.select_related("tier").get(pk=partner.pk)
        if TierChange.objects.filter(partner=partner, period=period).exists():
            return None
        tenure = full_months(partner.joined_at, month_start(period, zone).date())
        sales = trailing_sales(partner_id=partner.pk, period=period)
        best = tier_eligible(tenure_months=tenure, sales=sales)
        if best is None or best.rank <= partner.tier.rank:
            return None
        change = TierChange.objects.create(
            partner=partner,
            period=period,
            from_tier=partner.tier,
            to_tier=best,
            tenure_months=tenure,
            trailing_sales=sales,
            reason="monthly review",
            created_at=now,
        )
        Partner.objects.filter(pk=partner.pk).update(tier=best)
        return change


def tiers_review(*, now: datetime | None = None) -> int:
    """The monthly job: review every active partner (each in its own transaction). Returns the upgrades made."""
    now = now or timezone.now()
    done = 0
    for partner in Partner.objects.filter(is_active=True).order_by("pk"):
        try:
            done += partner_tier_review(partner=partner, now=now) is not None
        except IntegrityError:  # a concurrent run reviewed this partner first
            continue
    return done


def partner_tier_set(
    *, partner: Partner, tier: PartnerTier, actor_id: int | None, reason: str, now: datetime | None = None
) -> TierChange | None:
    """An operator's tier change (up or down), audited with a reason. None when the tier is already that."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [gettext("Say why the tier changes.")]})
    with transaction.atomic():
        partners_lock([partner.pk])
        current = Partner.objects.select_related("tier").filter(pk=partner.pk).first()
        if current is None:
            raise PartnerNotFound()
        if current.tier_id == tier.pk:
            return None
        zone = tz()
        period = month_key(now, zone)
        change = TierChange.objects.create(
            partner=current,
            period="",
            from_tier=current.tier,
            to_tier=tier,
            tenure_months=full_months(current.joined_at, month_start(period, zone).date()),
            trailing_sales=trailing_sales(partner_id=current.pk, period=period),
            actor_id=actor_id,
            reason=reason[:200],
            created_at=now,
        )
        Partner.objects.filter(pk=current.pk).update(tier=tier)
        return change


def tier_changes_seen(*, partner: Partner, now: datetime | None = None) -> int:
    """A partner user dismissed the announcement of the partner's tier changes."""
    now = now or timezone.now()
    return TierChange.objects.filter(partner=partner, seen_at__isnull=True).update(seen_at=now)
