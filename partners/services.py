"""Partner API keys (issue, revoke, verify a signed request) and the programme's partners, logins, applications and
rebate schedules. Sales are booked in partners.sales (bulk: partners.imports), statements and payouts in
partners.statements, tier changes in partners.tiers."""

from __future__ import annotations

import secrets
import zoneinfo
from collections.abc import Iterable
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from campaigns.models import Campaign
from config.codes import code_normalize, random_code
from partners.errors import InvalidApiKey, InvalidSignature, StaleTimestamp
from partners.models import (
    ApiKey,
    BonusRule,
    Partner,
    PartnerApplication,
    PartnerTier,
    PartnerUser,
    Programme,
    RebateBand,
    RebateSchedule,
)
from partners.rebates import Band, bands_validate
from partners.signing import MAX_CLOCK_SKEW, signature_matches, signing_key_for


def api_key_create(
    *,
    name: str,
    default_campaign: Campaign | None = None,
    campaigns: Iterable[Campaign] = (),
    created_by_id: int | None = None,
    reports_sales: bool = False,
    partner: Partner | None = None,
) -> tuple[ApiKey, str]:
    """A new partner key. Returns the key and its secret, which is shown once and never stored. `reports_sales`
    lets it book partner sales (with `partner`: that partner's only)."""
    if not name.strip():
        raise ValidationError({"name": [gettext("Give the key a name.")]})
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name.strip(),
            key_id=f"pk_{secrets.token_hex(8)}",
            signing_key=signing_key_for(secret),
            default_campaign=default_campaign,
            created_by_id=created_by_id,
            reports_sales=reports_sales,
            partner=partner,
        )
        key.campaigns.set(campaigns)
    return key, secret


def api_key_update(
    *,
    api_key: ApiKey,
    name: str,
    campaigns: Iterable[Campaign],
    reports_sales: bool | None = None,
    partner: Partner | None = None,
) -> ApiKey:
    """Rename a key, change which other campaigns it may report for and, when `reports_sales` is given, whether it
    may report sales and for which partner (None: any). Its id, secret and default campaign stay: partners'
    events keep meaning what they meant."""
    if not name.strip():
        raise ValidationError({"name": [gettext("Give the key a name.")]})
    with transaction.atomic():
        if reports_sales is None:
            ApiKey.objects.filter(pk=api_key.pk).update(name=name.strip())
        else:
            ApiKey.objects.filter(pk=api_key.pk).update(name=name.strip(), reports_sales=reports_sales, partner=partner)
            api_key.reports_sales, api_key.partner = reports_sales, partner
        api_key.campaigns.set(campaigns)
    api_key.name = name.strip()
    return api_key


def api_key_revoke(*, api_key: ApiKey, now: datetime | None = None) -> bool:
    """Revoke a key (idempotent: a revoked key stays revoked at its first time). Returns whether this call
    revoked it."""
    now = now or timezone.now()
    done = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now)
    api_key.refresh_from_db(fields=["revoked_at"])
    return bool(done)


def api_key_verify(*, key_id: str, timestamp: str, signature: str, body: bytes, now: datetime | None = None) -> ApiKey:
    """Authenticate a partner request: known, unrevoked key; timestamp within five minutes either way;
    `signature` = hex HMAC-SHA256(signing key, f"{timestamp}.{body}") compared in constant time."""
    now = now or timezone.now()
    key_id = key_id or ""
    if not (key_id.isascii() and key_id.isprintable() and 0 < len(key_id) <= 40):
        raise InvalidApiKey()
    key = ApiKey.objects.select_related("default_campaign").filter(key_id=key_id, revoked_at__isnull=True).first()
    if key is None:
        raise InvalidApiKey()
    if not timestamp or not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise StaleTimestamp(details={"server_time": int(now.timestamp())})
    if abs(now.timestamp() - int(timestamp)) > MAX_CLOCK_SKEW.total_seconds():
        raise StaleTimestamp(details={"server_time": int(now.timestamp())})
    if not signature_matches(signing_key=key.signing_key, timestamp=timestamp, body=body, signature=signature):
        raise InvalidSignature()
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


# --- Partners, logins, applications, schedules --------------------------------------------------------------------


def _referral_code() -> str:
    for _attempt in range(20):
        code = random_code(8)
        if not Partner.objects.filter(referral_code=code).exists():
            return code
    raise RuntimeError("could not draw a free recruiting code")


def partner_create(
    *,
    code: str,
    company: str,
    tier: PartnerTier,
    joined_at: date,
    kind: str = Partner.Kind.DEALER,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    referred_by: Partner | None = None,
) -> Partner:
    """A new partner with its own recruiting code. The partner code names it in sales files and the API."""
    code = (code or "").strip().upper()
    if not code or len(code) > 20 or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in code):
        raise ValidationError({"code": [gettext("Use 1–20 letters, digits, - or _.")]})
    if Partner.objects.filter(code=code).exists():
        raise ValidationError({"code": [gettext("A partner with this code exists.")]})
    if not (company or "").strip():
        raise ValidationError({"company": [gettext("Name the company.")]})
    return Partner.objects.create(
        code=code,
        company=company.strip(),
        tier=tier,
        joined_at=joined_at,
        kind=kind,
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        contact_email=contact_email.strip(),
        referred_by=referred_by,
        referral_code=_referral_code(),
    )


def partner_login_add(*, partner: Partner, user_id: int) -> PartnerUser:
    """Let a user sign in to `partner`'s portal: a user belongs to at most one partner, and never a staff user."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise ValidationError({"user": [gettext("No such user.")]})
    if user.is_staff:
        raise ValidationError({"user": [gettext("Staff accounts cannot sign in as a partner.")]})
    existing = PartnerUser.objects.filter(user_id=user_id).first()
    if existing is not None:
        if existing.partner_id != partner.pk:
            raise ValidationError({"user": [gettext("This user already belongs to another partner.")]})
        return existing
    return PartnerUser.objects.create(partner=partner, user_id=user_id)


def partner_application_submit(
    *, company: str, contact_name: str, contact_phone: str, contact_email: str, kind: str, referral_code: str
) -> PartnerApplication:
    """A company applies to become a partner through a recruiting link (`referral_code`: whose link, may be '')."""
    errors: dict[str, list[str]] = {}
    for name, value, limit in (
        ("company", company, 120),
        ("contact_name", contact_name, 60),
        ("contact_phone", contact_phone, 20),
    ):
        text = (value or "").strip()
        if not text or len(text) > limit or not text.isprintable():
            errors[name] = [gettext("Required, at most %(limit)d characters.") % {"limit": limit}]
    if kind not in Partner.Kind.values:
        errors["kind"] = [gettext("Choose dealer or agent.")]
    email = (contact_email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["contact_email"] = [gettext("Enter a valid email address, or leave it empty.")]
    if errors:
        raise ValidationError(errors)
    recruiter = Partner.objects.filter(
        referral_code=code_normalize(referral_code, max_length=12) or "-", is_active=True
    ).first()
    return PartnerApplication.objects.create(
        company=company.strip(),
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        contact_email=email,
        kind=kind,
        referred_by=recruiter,
    )


def partner_application_approve(
    *, application: PartnerApplication, code: str, tier: PartnerTier, joined_at: date, now: datetime | None = None
) -> Partner:
    """Approve an application into a partner (recruited by the partner whose link it came through)."""
    now = now or timezone.now()
    with transaction.atomic():
        current = PartnerApplication.objects.select_for_update().get(pk=application.pk)
        if current.status != PartnerApplication.Status.PENDING:
            raise ValidationError(gettext("This application was already decided."))
        partner = partner_create(
            code=code,
            company=current.company,
            tier=tier,
            joined_at=joined_at,
            kind=current.kind,
            contact_name=current.contact_name,
            contact_phone=current.contact_phone,
            contact_email=current.contact_email,
            referred_by=current.referred_by,
        )
        PartnerApplication.objects.filter(pk=current.pk).update(
            status=PartnerApplication.Status.APPROVED, partner=partner, decided_at=now
        )
        return partner


def partner_application_reject(*, application: PartnerApplication, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(
        PartnerApplication.objects.filter(pk=application.pk, status=PartnerApplication.Status.PENDING).update(
            status=PartnerApplication.Status.REJECTED, decided_at=now
        )
    )


def rebate_schedule_save(
    *, schedule: RebateSchedule | None, name: str, method: str, bands: list[Band]
) -> RebateSchedule:
    """Create or change a schedule with its bands (validated: starts at 0, distinct bounds, rates 0–100)."""
    ordered = bands_validate(bands)
    if method not in RebateSchedule.Method.values:
        raise ValidationError({"method": [gettext("Choose marginal or whole amount.")]})
    with transaction.atomic():
        if schedule is None:
            schedule = RebateSchedule.objects.create(name=name.strip(), method=method)
        else:
            RebateSchedule.objects.filter(pk=schedule.pk).update(name=name.strip(), method=method)
            schedule.name, schedule.method = name.strip(), method
            schedule.bands.all().delete()
        RebateBand.objects.bulk_create(RebateBand(schedule=schedule, lower=b.lower, rate=b.rate) for b in ordered)
    return schedule


def partner_update(
    *,
    partner: Partner,
    company: str,
    kind: str,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    is_active: bool = True,
) -> Partner:
    """Change a partner's company, kind, contact and whether it is active. Its code, tier (partners.tiers),
    joining date and recruiter stay."""
    if not (company or "").strip():
        raise ValidationError({"company": [gettext("Name the company.")]})
    if kind not in Partner.Kind.values:
        raise ValidationError({"kind": [gettext("Choose dealer or agent.")]})
    fields = {
        "company": company.strip(),
        "kind": kind,
        "contact_name": (contact_name or "").strip(),
        "contact_phone": (contact_phone or "").strip(),
        "contact_email": (contact_email or "").strip(),
        "is_active": is_active,
    }
    Partner.objects.filter(pk=partner.pk).update(**fields)
    for attr, value in fields.items():
        setattr(partner, attr, value)
    return partner


def programme_save(*, programme: Programme) -> Programme:
    """The programme's settings (the one row): a known time zone, a reward of 0 or more, a share of 0–100 %."""
    errors: dict[str, list[str]] = {}
    try:
        zoneinfo.ZoneInfo(programme.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = [gettext("Enter a time zone such as Asia/Shanghai.")]
    if programme.referral_bonus is None or programme.referral_bonus < 0:
        errors["referral_bonus"] = [gettext("Enter 0 or more.")]
    if programme.referral_share is None or not 0 <= programme.referral_share <= 100:
        errors["referral_share"] = [gettext("Enter a percentage from 0 to 100.")]
    if errors:
        raise ValidationError(errors)
    programme.pk = 1
    programme.save()
    return programme


def partner_tier_save(*, tier: PartnerTier) -> PartnerTier:
    """Create or change a tier (its rank unique; percentages 0–100; minimums 0 or more). Moving partners between
    tiers is partners.tiers' job."""
    errors: dict[str, list[str]] = {}
    if not (tier.name or "").strip():
        errors["name"] = [gettext("Name the tier.")]
    if tier.agency_discount is None or not 0 <= tier.agency_discount <= 100:
        errors["agency_discount"] = [gettext("Enter a percentage from 0 to 100.")]
    if tier.min_trailing_sales is None or tier.min_trailing_sales < 0:
        errors["min_trailing_sales"] = [gettext("Enter 0 or more.")]
    if PartnerTier.objects.filter(rank=tier.rank).exclude(pk=tier.pk).exists():
        errors["rank"] = [gettext("Another tier has this rank.")]
    if errors:
        raise ValidationError(errors)
    tier.save()
    return tier


def bonus_rule_save(*, rule: BonusRule) -> BonusRule:
    """Create or change an annual bonus: a positive threshold; cash with a positive amount, non-cash with none."""
    errors: dict[str, list[str]] = {}
    if not (rule.name or "").strip():
        errors["name"] = [gettext("Name the bonus.")]
    if rule.threshold is None or rule.threshold <= 0:
        errors["threshold"] = [gettext("Enter an amount above 0.")]
    if rule.reward == BonusRule.Reward.CASH and (rule.cash_amount is None or rule.cash_amount <= 0):
        errors["cash_amount"] = [gettext("A cash bonus needs an amount above 0.")]
    if rule.reward == BonusRule.Reward.NON_CASH and rule.cash_amount:
        errors["cash_amount"] = [gettext("A non-cash bonus has no cash amount: leave 0 and describe the reward.")]
    if rule.reward not in BonusRule.Reward.values:
        errors["reward"] = [gettext("Choose cash or non-cash.")]
    if errors:
        raise ValidationError(errors)
    rule.save()
    return rule
