"""Every write to campaigns."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from campaigns.earning import member_earned
from campaigns.models import Campaign, ExpiryRule, MultiplierCard
from points.services import EXPIRY_AT_SQL, Posted, expiry_policy_set, posting_call

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

# The value gate (ADR 0002): every point a campaign gives or takes passes campaign_grant / campaign_charge
# (campaigns/sql/), which Python calls here and the prize wheel's SQL calls directly. Which earnings a multiplier
# card boosts, and tomorrow the budget caps, are decided there only.
# (The points' expiry is the campaign's policy, read in the same statement: EXPIRY_AT_SQL.)
_GRANT_SQL = (
    "SELECT * FROM campaign_grant(%s::text, %s::bigint, %s::bigint, %s::bigint, %s::text, %s::text, %s::integer, "  # noqa: S608
    f"%s::text, {EXPIRY_AT_SQL}, %s::timestamptz, %s::text, %s::timestamptz)"
)
_CHARGE_SQL = (
    "SELECT * FROM campaign_charge(%s::text, %s::bigint, %s::bigint, %s::bigint, %s::text, %s::text, %s::integer, "
    "%s::text, %s::timestamptz, %s::text)"
)


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


def _source(source: Model | None) -> tuple[int | None, str]:
    if source is None:
        return None, ""
    return ContentType.objects.get_for_model(source).pk, str(source.pk)


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
    reason_en: str = "",
    available_at: datetime | None = None,
) -> Posted:
    """THE way a campaign gives a member points (check-ins, streaks, tasks, prizes): one call of campaign_grant()
    (campaigns/sql/campaign_grant.sql), where multiplier cards apply and budget caps will.

    A member holding an active multiplier card gets the extra points of check-ins, streak bonuses and task
    rewards as a second transfer (`<key>:boost`, kind `boost`) in the same call, posted only when the base
    transfer is new: a replay returns the original and never boosts again. Wheel prizes are not boosted. Errors
    are the ledger's (points.services.transfer_post); `reason` / `reason_en` as there. `available_at`: the points
    stay pending until then (a referral reward on hold)."""
    source_type, source_id = _source(source)
    expiry = [campaign.pk, "PTS", now]
    params = [key, campaign.pk, user_id, amount, kind, reason, source_type, source_id, *expiry, now, reason_en]
    params.append(available_at)
    posted = posting_call(_GRANT_SQL, params, key=key, kind=kind, amount=amount, member_debit=False)
    if posted.created:
        member_earned(user_id=user_id, kind=kind)  # after-commit receivers (levels: promotion)
    return posted


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
    reason_en: str = "",
) -> Posted:
    """A member spends points inside a campaign (make-up check-ins, spins, redemptions): one call of
    campaign_charge() (campaigns/sql/campaign_charge.sql). Too few points (or no wallet) raises
    InsufficientPoints and writes nothing."""
    source_type, source_id = _source(source)
    params = [key, campaign.pk, user_id, amount, kind, reason, source_type, source_id, now, reason_en]
    return posting_call(_CHARGE_SQL, params, key=key, kind=kind, amount=amount, member_debit=True)


def multiplier_card_issue(
    *, campaign: Campaign, user_id: int, percent: int, hours: int, source_key: str, now: datetime
) -> MultiplierCard:
    """Give a member a multiplier card active from `now` for `hours`. Idempotent by `source_key` (the first card
    made with it is returned). One call of campaign_multiplier_issue(), which the prize wheel calls too."""
    cards = MultiplierCard.objects.raw(
        "SELECT * FROM campaign_multiplier_issue(%s::bigint, %s::bigint, %s::integer, %s::integer, %s::text, "
        "%s::timestamptz)",
        [campaign.pk, user_id, percent, hours, source_key, now],
    )
    return next(iter(cards))
