"""Partner API keys: issue, revoke, and verify a signed request. Every write to partners.ApiKey is here."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from campaigns.models import Campaign
from partners.errors import InvalidApiKey, InvalidSignature, StaleTimestamp
from partners.models import ApiKey
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
