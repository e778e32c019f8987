"""Event ingestion services: member actions reported by partner systems (POST /api/v1/events), validated one
by one, recorded once under UNIQUE (api key, event id) and counted by the task engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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
from partners.models import ApiKey
from partners.selectors import api_key_campaign_ids
from partners.signing import MAX_CLOCK_SKEW
from tasks.engine import progress_record
from tasks.errors import EventRejection, EventStatus, InvalidEventBatch, TooManyEvents
from tasks.models import IngestedEvent
from tasks.rules import event_type_validate

MAX_EVENTS_PER_REQUEST = 1000


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
    campaign: Campaign
    user_id: int
    type: str
    amount: Decimal | None
    occurred_at: datetime


class _KeyCampaigns:
    """The campaigns one key may report for, each looked up once per batch."""

    def __init__(self, api_key: ApiKey) -> None:
        self.default = api_key.default_campaign
        self.allowed = api_key_campaign_ids(api_key=api_key)
        self.by_slug: dict[str, Campaign | None] = {}

    def resolve(self, slug: Any) -> Campaign:
        """The event's campaign: the one it names by slug, else the key's default campaign."""
        if slug is None or slug == "":
            if self.default is None:
                raise _Reject(
                    EventRejection.MISSING_FIELD, gettext("Missing field(s): %(fields)s.") % {"fields": "campaign"}
                )
            return self.default
        if not isinstance(slug, str):
            raise _Reject(EventRejection.UNKNOWN_CAMPAIGN, gettext("No campaign with that slug for this key."))
        if slug not in self.by_slug:
            self.by_slug[slug] = Campaign.objects.filter(slug=slug, pk__in=self.allowed).first()
        campaign = self.by_slug[slug]
        if campaign is None:
            raise _Reject(EventRejection.UNKNOWN_CAMPAIGN, gettext("No campaign with that slug for this key."))
        return campaign


def _event_clean(campaigns: _KeyCampaigns, raw: Any, now: datetime) -> _CleanEvent:
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
    campaign = campaigns.resolve(raw.get("campaign"))
    if not campaign_open_for_members(campaign=campaign, now=occurred_at):
        raise _Reject(
            EventRejection.OUTSIDE_OFFICIAL_PHASE,
            gettext("The event happened outside the campaign's official phase."),
        )
    member = raw["member"]
    user = user_by_identifier(identifier=member) if isinstance(member, str) and len(member) <= 254 else None
    if user is None or not user.is_active:
        raise _Reject(EventRejection.UNKNOWN_MEMBER, gettext("No member with that phone, email or external id."))
    return _CleanEvent(str(event_id), campaign, user.pk, event_type, amount, occurred_at)


def event_ingest(*, api_key: ApiKey, events: list[Any], now: datetime | None = None) -> list[EventResult]:
    """Apply partner events once each. Every event is validated on its own; a valid one is recorded under
    UNIQUE (api key, event id) and counted in the same transaction, so a replayed or concurrent duplicate
    batch counts nothing twice. Invalid events are answered with a code and change nothing. An event counts
    for the campaign it names by slug (one the key may report for) or else the key's default campaign."""
    now = now or timezone.now()
    campaigns = _KeyCampaigns(api_key)
    results: list[EventResult] = []
    for raw in events:
        raw_id = raw.get("event_id") if isinstance(raw, dict) else None
        shown_id = str(raw_id)[:100] if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else ""
        try:
            event = _event_clean(campaigns, raw, now)
        except _Reject as rejected:
            results.append(EventResult(shown_id, EventStatus.REJECTED, rejected.code, rejected.message))
            continue
        try:
            with transaction.atomic():
                record = IngestedEvent.objects.create(
                    api_key=api_key,
                    campaign=event.campaign,
                    event_id=event.event_id,
                    user_id=event.user_id,
                    type=event.type,
                    amount=event.amount,
                    occurred_at=event.occurred_at,
                    received_at=now,
                )
                effects = progress_record(
                    campaign=event.campaign,
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
