"""Partner API keys (issue, revoke, verify a signed request) and the programme's partners, logins, applications and
rebate schedules. Sales are booked in partners.sales (bulk: partners.imports), statements and payouts in
partners.statements, tier changes in partners.tiers."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from campaigns.models import Campaign
from config.codes import code_normalize, random_code
from partners.errors import InvalidApiKey, InvalidSignature, StaleTimestamp
from partners.models import (
    ApiKey,
    Partner,
    PartnerApplication,
    PartnerTier,
    PartnerUser,
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
) -> tuple[ApiKey, str]:
    """A new partner key. Returns the key and its secret, which is shown once and never stored."""
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
        )
        key.campaigns.set(campaigns)
    return key, secret


def api_key_update(*, api_key: ApiKey, name: str, campaigns: Iterable[Campaign]) -> ApiKey:
    """Rename a key or change which other campaigns it may report for (its id, secret and default campaign
    stay: partners' events keep meaning what they meant)."""
    if not name.strip():
        raise ValidationError({"name": [gettext("Give the key a name.")]})
    with transaction.atomic():
        ApiKey.objects.filter(pk=api_key.pk).update(name=name.strip())
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
    if errors:
        raise ValidationError(errors)
    recruiter = Partner.objects.filter(
        referral_code=code_normalize(referral_code, max_length=12) or "-", is_active=True
    ).first()
    return PartnerApplication.objects.create(
        company=company.strip(),
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        contact_email=(contact_email or "").strip()[:254],
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
