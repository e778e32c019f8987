"""Every write to campaigns."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from campaigns.kinds import BOOST
from campaigns.models import Campaign, ExpiryRule, MultiplierCard
from campaigns.selectors import multiplier_active
from points.models import AccountKind
from points.services import Member, Posted, System, expiry_policy_set, transfer_post

FIELDS = (
    "name",
    "name_en",
    "slug",
    "theme",
    "theme_en",
    "banner",
    "timezone",
    "warmup_starts_at",
    "official_starts_at",
    "followup_starts_at",
    "ends_at",
    "rules",
    "rules_en",
    "expiry_rule",
    "expiry_days",
    "is_published",
    "is_featured",
)

# Earnings a multiplier card multiplies: check-ins (incl. make-up days), streak bonuses and task rewards.
# (Slugs tasks registers in tasks/kinds.py; campaigns does not import tasks, which builds on campaigns.)
BOOSTED_KINDS = frozenset({"checkin", "streak_bonus", "task_reward"})


def campaign_validate(campaign: Campaign) -> None:
    """Field-level errors for everything the database would refuse, in words an operator understands."""
    errors: dict[str, list[str]] = {}
    w, o, f, e = campaign.warmup_starts_at, campaign.official_starts_at, campaign.followup_starts_at, campaign.ends_at
    if all((w, o, f, e)):
        if w > o:
            errors.setdefault("warmup_starts_at", []).append(_("Warm-up must start before the official phase."))
        if o >= f:
            errors.setdefault("followup_starts_at", []).append(
                _("The follow-up phase must start after the official phase starts.")
            )
        if f > e:
            errors.setdefault("ends_at", []).append(_("The campaign must end after the follow-up phase starts."))
    try:
        zoneinfo.ZoneInfo(campaign.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors.setdefault("timezone", []).append(_("Unknown timezone."))
    if campaign.expiry_rule == ExpiryRule.DAYS and not campaign.expiry_days:
        errors.setdefault("expiry_days", []).append(_("Give the number of days points stay valid."))
    if not (campaign.rules or "").strip():
        errors.setdefault("rules", []).append(_("Members must be able to read the rules."))
    if errors:
        raise ValidationError(errors)


def campaign_save(*, campaign: Campaign | None = None, data: dict[str, Any]) -> Campaign:
    """Create or update a campaign; keeps one featured campaign and the ledger's expiry policy in step."""
    campaign = campaign or Campaign()
    for field in FIELDS:
        if field in data:
            setattr(campaign, field, data[field])
    if campaign.expiry_rule != ExpiryRule.DAYS:
        campaign.expiry_days = None
    campaign_validate(campaign)
    with transaction.atomic():
        if campaign.is_featured:
            Campaign.objects.filter(is_featured=True).exclude(pk=campaign.pk).update(is_featured=False)
        campaign.save()
        expiry_policy_set(
            campaign_id=campaign.pk, rule=campaign.expiry_rule, days=campaign.expiry_days, tz=campaign.timezone
        )
    return campaign


def campaign_points_grant(
    *,
    campaign: Campaign,
    user_id: int,
    amount: int,
    kind: str,
    key: str,
    now: datetime,
    source: Model | None = None,
    reason: str = "",
) -> Posted:
    """THE way a campaign gives a member points (check-ins, streaks, tasks, prizes). Budget caps and
    multiplier cards hook in here, so every earning path obeys them.

    A member holding an active multiplier card gets the extra points of check-ins, streak bonuses and task
    rewards as a second transfer (`<key>:boost`, kind `boost`) in the same transaction, posted only when the
    base transfer is new: a replay returns the original and never boosts again."""
    base: dict[str, Any] = {
        "debit": System(AccountKind.ISSUANCE, campaign.pk),
        "credit": Member(user_id),
        "campaign_id": campaign.pk,
        "source": source,
        "now": now,
    }
    if kind not in BOOSTED_KINDS:
        return transfer_post(key=key, amount=amount, kind=kind, reason=reason, **base)
    with transaction.atomic():
        posted = transfer_post(key=key, amount=amount, kind=kind, reason=reason, **base)
        card = multiplier_active(campaign_id=campaign.pk, user_id=user_id, now=now) if posted.created else None
        extra = amount * (card.percent - 100) // 100 if card else 0
        if card and extra > 0:
            transfer_post(key=f"{key}:boost", amount=extra, kind=BOOST, reason=card.factor_label, **base)
    return posted


def multiplier_card_issue(
    *, campaign: Campaign, user_id: int, percent: int, hours: int, source_key: str, now: datetime
) -> MultiplierCard:
    """Give a member a multiplier card active from `now` for `hours`. Idempotent by `source_key`."""
    card, _created = MultiplierCard.objects.get_or_create(
        source_key=source_key,
        defaults={
            "campaign": campaign,
            "user_id": user_id,
            "percent": percent,
            "starts_at": now,
            "ends_at": now + timedelta(hours=hours),
        },
    )
    return card


def campaign_points_charge(
    *,
    campaign: Campaign,
    user_id: int,
    amount: int,
    kind: str,
    key: str,
    now: datetime,
    source: Model | None = None,
    reason: str = "",
) -> Posted:
    """A member spends points inside a campaign (make-up check-ins, spins, redemptions)."""
    return transfer_post(
        key=key,
        debit=Member(user_id),
        credit=System(AccountKind.SPEND, campaign.pk),
        amount=amount,
        kind=kind,
        campaign_id=campaign.pk,
        source=source,
        reason=reason,
        now=now,
    )
