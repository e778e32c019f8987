from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, DomainError


class AlreadyCheckedIn(Conflict):
    code = "already_checked_in"
    default_message = _("You have already checked in today.")


class CheckInNotConfigured(DomainError):
    code = "checkin_not_available"
    status = 422
    default_message = _("This campaign has no daily check-in.")


class MakeupNotAllowed(DomainError):
    code = "makeup_not_allowed"
    status = 422
    default_message = _("A make-up check-in is not possible for that day.")


class MakeupLimitReached(DomainError):
    code = "makeup_limit_reached"
    status = 422
    default_message = _("You have used all make-up check-ins for this month.")


class TaskNotFound(DomainError):
    code = "task_not_found"
    status = 404
    default_message = _("This task does not exist.")


class TaskLocked(DomainError):
    code = "task_locked"
    status = 422
    default_message = _("This task is locked: complete its prerequisite first.")


class TaskNotCompleted(DomainError):
    code = "task_not_completed"
    status = 422
    default_message = _("Complete the task before claiming its reward.")


class TaskAlreadyClaimed(Conflict):
    code = "task_already_claimed"
    default_message = _("You have already claimed this reward.")


class TooManyEvents(DomainError):
    code = "too_many_events"
    status = 413
    default_message = _("Send at most 1,000 events per request.")


class InvalidEventBatch(DomainError):
    code = "invalid_batch"
    status = 400
    default_message = _('Send one event object or {"events": [...]} with at least one event.')


class EventStatus(StrEnum):
    """How POST /api/v1/events answers each event of a batch."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class EventRejection(StrEnum):
    """Machine codes of a single event's result (status `rejected`, or `duplicate` for DUPLICATE_EVENT).

    A rejected event changes nothing and is not stored, so the partner can correct it and resend it under
    the same event id."""

    INVALID_EVENT = "invalid_event"  # not a JSON object, or text with NUL characters
    MISSING_FIELD = "missing_field"
    INVALID_EVENT_ID = "invalid_event_id"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_OCCURRED_AT = "invalid_occurred_at"
    OCCURRED_IN_FUTURE = "occurred_in_future"
    OUTSIDE_OFFICIAL_PHASE = "outside_official_phase"
    UNKNOWN_MEMBER = "unknown_member"
    UNKNOWN_CAMPAIGN = "unknown_campaign"  # no such campaign, or not one this key may report for
    DUPLICATE_EVENT = "duplicate_event"
