"""Event ingestion services: member actions reported by partner systems (POST /api/v1/events), validated one
by one, recorded once under UNIQUE (api key, event id) and counted by the task engine."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from accounts.selectors import user_by_identifier
from campaigns.models import Campaign
from campaigns.selectors import campaign_open_for_members
from tasks.engine import progress_record
from tasks.errors import (
    EventRejection,
    EventStatus,
    InvalidApiKey,
    InvalidEventBatch,
    InvalidSignature,
    StaleTimestamp,
    TooManyEvents,
)
from tasks.models import ApiKey, IngestedEvent
from tasks.rules import event_type_validate

MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_EVENTS_PER_REQUEST = 1000


# --- Partner API keys -----------------------------------------------------------------------------------------


def signing_key_for(secret: str) -> str:
    """The derived signing key partners sign with and the server stores (the secret itself is never kept)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def request_signature(*, signing_key: str, timestamp: str, body: bytes) -> str:
    return hmac.new(signing_key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def api_key_create(*, name: str, campaign: Campaign, created_by_id: int | None = None) -> tuple[ApiKey, str]:
    """A new partner key. Returns the key and its secret, which is shown once and never stored."""
    if not name.strip():
        raise ValidationError({"name": [gettext("Give the key a name.")]})
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name.strip(),
        campaign=campaign,
        key_id=f"pk_{secrets.token_hex(8)}",
        signing_key=signing_key_for(secret),
        created_by_id=created_by_id,
    )
    return key, secret


def api_key_revoke(*, api_key: ApiKey, now: datetime | None = None) -> bool:
    """Revoke a key (idempotent). Returns whether this call revoked it."""
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
    key = ApiKey.objects.select_related("campaign").filter(key_id=key_id, revoked_at__isnull=True).first()
    if key is None:
        raise InvalidApiKey()
    if not timestamp or not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise StaleTimestamp(details={"server_time": int(now.timestamp())})
    if abs(now.timestamp() - int(timestamp)) > MAX_CLOCK_SKEW.total_seconds():
        raise StaleTimestamp(details={"server_time": int(now.timestamp())})
    expected = request_signature(signing_key=key.signing_key, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected, (signature or "").strip().lower().encode("ascii", "replace").decode()):
        raise InvalidSignature()
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


# --- Ingestion ------------------------------------------------------------------------------------------------


@dataclass
class EventResult:
    event_id: str
    status: EventStatus
    code: EventRejection | None = None
    message: str = ""
    effects: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        code = "" if self.code is None else str(self.code)
        return {"event_id": self.event_id, "status": str(self.status), "code": code, "message": self.message}


class _Reject(Exception):
    def __init__(self, code: EventRejection, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(message)


@dataclass(frozen=True)
class _CleanEvent:
    event_id: str
    user_id: int
    type: str
    amount: Decimal | None
    occurred_at: datetime


def _event_clean(campaign: Campaign, raw: Any, now: datetime) -> _CleanEvent:
    if not isinstance(raw, dict):
        raise _Reject(EventRejection.INVALID_EVENT, gettext("Each event must be a JSON object."))
    missing = [name for name in ("event_id", "member", "type", "occurred_at") if raw.get(name) in (None, "")]
    if missing:
        raise _Reject(
            EventRejection.MISSING_FIELD,
            gettext("Missing field(s): %(fields)s.") % {"fields": ", ".join(missing)},
        )
    if any(isinstance(v, str) and "\x00" in v for v in raw.values()):
        raise _Reject(EventRejection.INVALID_EVENT, gettext("Text fields must not contain NUL characters."))
    event_id = raw["event_id"]
    if not isinstance(event_id, str | int) or isinstance(event_id, bool) or not (0 < len(str(event_id)) <= 100):
        raise _Reject(EventRejection.INVALID_EVENT_ID, gettext("event_id must be a string of 1-100 characters."))
    if not isinstance(raw["type"], str):
        raise _Reject(EventRejection.UNKNOWN_TYPE, gettext("Unknown event type."))
    try:
        event_type = event_type_validate(raw["type"])
    except ValidationError as exc:
        raise _Reject(EventRejection.UNKNOWN_TYPE, exc.messages[0]) from exc
    amount: Decimal | None = None
    if raw.get("amount") is not None:
        value = raw["amount"]
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise InvalidOperation
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError) as exc:
            raise _Reject(EventRejection.INVALID_AMOUNT, gettext("amount must be a number.")) from exc
        if (
            not amount.is_finite()
            or amount < 0
            or amount >= Decimal("1e10")
            or amount != amount.quantize(Decimal("0.01"))
        ):
            raise _Reject(
                EventRejection.INVALID_AMOUNT,
                gettext("amount must be zero or positive, with at most two decimal places."),
            )
    occurred = raw["occurred_at"]
    try:
        occurred_at = parse_datetime(occurred) if isinstance(occurred, str) else None
    except ValueError:  # well-formed but impossible, e.g. month 13
        occurred_at = None
    if occurred_at is None or timezone.is_naive(occurred_at):
        raise _Reject(
            EventRejection.INVALID_OCCURRED_AT,
            gettext("occurred_at must be an ISO 8601 time with a timezone offset."),
        )
    if occurred_at > now + MAX_CLOCK_SKEW:
        raise _Reject(EventRejection.OCCURRED_IN_FUTURE, gettext("occurred_at is in the future."))
    if not campaign_open_for_members(campaign=campaign, now=occurred_at):
        raise _Reject(
            EventRejection.OUTSIDE_OFFICIAL_PHASE,
            gettext("The event happened outside the campaign's official phase."),
        )
    member = raw["member"]
    user = user_by_identifier(identifier=member) if isinstance(member, str) and len(member) <= 254 else None
    if user is None or not user.is_active:
        raise _Reject(EventRejection.UNKNOWN_MEMBER, gettext("No member with that phone, email or external id."))
    return _CleanEvent(str(event_id), user.pk, event_type, amount, occurred_at)


def event_ingest(*, api_key: ApiKey, events: list[Any], now: datetime | None = None) -> list[EventResult]:
    """Apply partner events once each. Every event is validated on its own; a valid one is recorded under
    UNIQUE (api key, event id) and counted in the same transaction, so a replayed or concurrent duplicate
    batch counts nothing twice. Invalid events are answered with a code and change nothing."""
    now = now or timezone.now()
    campaign = api_key.campaign
    results: list[EventResult] = []
    for raw in events:
        raw_id = raw.get("event_id") if isinstance(raw, dict) else None
        shown_id = str(raw_id)[:100] if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else ""
        try:
            event = _event_clean(campaign, raw, now)
        except _Reject as rejected:
            results.append(EventResult(shown_id, EventStatus.REJECTED, rejected.code, rejected.message))
            continue
        try:
            with transaction.atomic():
                record = IngestedEvent.objects.create(
                    api_key=api_key,
                    event_id=event.event_id,
                    user_id=event.user_id,
                    type=event.type,
                    amount=event.amount,
                    occurred_at=event.occurred_at,
                    received_at=now,
                )
                effects = progress_record(
                    campaign=campaign,
                    user_id=event.user_id,
                    event_type=event.type,
                    amount=event.amount,
                    occurred_at=event.occurred_at,
                    source_key=f"event:{api_key.pk}:{event.event_id}",
                    now=now,
                )
                record.result = {"tasks": [e.__dict__ for e in effects]}
                record.save(update_fields=["result"])
        except IntegrityError:
            if not IngestedEvent.objects.filter(api_key=api_key, event_id=event.event_id).exists():
                raise
            results.append(
                EventResult(
                    event.event_id,
                    EventStatus.DUPLICATE,
                    EventRejection.DUPLICATE_EVENT,
                    gettext("Already received; not counted again."),
                )
            )
            continue
        results.append(EventResult(event.event_id, EventStatus.ACCEPTED, None, "", [e.__dict__ for e in effects]))
    return results


@dataclass(frozen=True)
class EventBatchOutcome:
    results: list[EventResult]

    def count(self, status: EventStatus) -> int:
        return sum(r.status == status for r in self.results)


def event_batch_ingest(*, api_key: ApiKey, payload: Any, now: datetime | None = None) -> EventBatchOutcome:
    """The partner request body: one event object or {"events": [...]} with 1..MAX_EVENTS_PER_REQUEST events.
    A malformed or oversized batch is refused whole (nothing applied); otherwise see event_ingest."""
    if isinstance(payload, dict) and "events" in payload:
        events = payload["events"]
    elif isinstance(payload, dict) and payload:
        events = [payload]
    else:
        raise InvalidEventBatch()
    if not isinstance(events, list) or not events:
        raise InvalidEventBatch()
    if len(events) > MAX_EVENTS_PER_REQUEST:
        raise TooManyEvents(details={"max": MAX_EVENTS_PER_REQUEST, "received": len(events)})
    return EventBatchOutcome(event_ingest(api_key=api_key, events=events, now=now))
