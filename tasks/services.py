"""Check-ins and streaks. Every write here; points move only through campaigns.services (one earning path)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from accounts.models import User
from accounts.selectors import user_by_identifier
from campaigns.errors import CampaignNotActive
from campaigns.models import Campaign, Phase
from campaigns.selectors import campaign_local_date, campaign_require_official
from campaigns.services import campaign_points_charge, campaign_points_grant
from points.models import TransferKind
from tasks.errors import (
    AlreadyCheckedIn,
    CheckInNotConfigured,
    InvalidApiKey,
    InvalidEventBatch,
    InvalidSignature,
    MakeupLimitReached,
    MakeupNotAllowed,
    StaleTimestamp,
    TaskAlreadyClaimed,
    TaskLocked,
    TaskNotCompleted,
    TaskNotFound,
    TooManyEvents,
)
from tasks.models import (
    EVENT_BASE_TYPES,
    FEATURE_EVENT_PREFIX,
    ApiKey,
    CheckIn,
    CheckInRule,
    IngestedEvent,
    StreakReward,
    TaskDefinition,
    TaskProgress,
    TaskWindow,
)

logger = logging.getLogger(__name__)


def local_date(campaign: Campaign, now: datetime) -> date:
    """'A day' is a date in the campaign's timezone."""
    return campaign_local_date(campaign=campaign, now=now)


def _rule(campaign: Campaign) -> CheckInRule:
    rule = CheckInRule.objects.filter(campaign=campaign).first()
    if rule is None:
        raise CheckInNotConfigured()
    return rule


def _after_commit_grant(campaign_id: int, user_id: int) -> None:
    from tasks.jobs import streak_rewards_grant

    def enqueue() -> None:
        try:
            streak_rewards_grant.delay(campaign_id, user_id)
        except Exception:  # the broker is down: the check-in stands, the sweep job pays the bonus later
            logger.exception("Could not enqueue streak rewards for campaign %s member %s", campaign_id, user_id)

    transaction.on_commit(enqueue)


def _checkin_pay(*, checkin: CheckIn, campaign: Campaign, now: datetime) -> None:
    """Post a check-in's base points (one ledger key per member and day, so it can never pay twice)."""
    posted = campaign_points_grant(
        campaign=campaign,
        user_id=checkin.user_id,
        amount=checkin.points,
        kind=TransferKind.CHECKIN,
        key=f"checkin:{campaign.pk}:{checkin.user_id}:{checkin.local_date.isoformat()}",
        now=now,
        source=checkin,
    )
    checkin.transfer_id = posted.transfer_id
    checkin.save(update_fields=["transfer_id"])


def checkin_create(*, campaign: Campaign, user_id: int, now: datetime | None = None) -> CheckIn:
    """Check in for today (campaign-local). One per member per day, enforced by a unique constraint; the base
    points are posted in the same transaction; streak bonuses follow from a Celery job after commit."""
    now = now or timezone.now()
    campaign_require_official(campaign=campaign, now=now)
    rule = _rule(campaign)
    today = local_date(campaign, now)
    try:
        with transaction.atomic():
            prev = CheckIn.objects.filter(
                campaign=campaign, user_id=user_id, local_date=today - timedelta(days=1)
            ).first()
            checkin = CheckIn.objects.create(
                campaign=campaign,
                user_id=user_id,
                local_date=today,
                streak=prev.streak + 1 if prev else 1,
                streak_start=prev.streak_start if prev else today,
                points=rule.base_points,
            )
            _checkin_pay(checkin=checkin, campaign=campaign, now=now)
            progress_record(
                campaign=campaign,
                user_id=user_id,
                event_type="checkin",
                amount=None,
                occurred_at=now,
                source_key=f"checkin:{checkin.pk}",
                now=now,
            )
            _after_commit_grant(campaign.pk, user_id)
    except IntegrityError as exc:
        existing = CheckIn.objects.filter(campaign=campaign, user_id=user_id, local_date=today).first()
        if existing is None:
            raise
        raise AlreadyCheckedIn(details={"checkin": checkin_as_dict(existing)}) from exc
    return checkin


def checkin_makeup(*, campaign: Campaign, user_id: int, day: date, now: datetime | None = None) -> CheckIn:
    """补签: check in for a missed past day of the official phase, paying the rule's cost; at most
    `makeup_monthly_cap` per calendar month (campaign-local). Later streaks are recomputed."""
    now = now or timezone.now()
    campaign_require_official(campaign=campaign, now=now)
    rule = _rule(campaign)
    today = local_date(campaign, now)
    first_day = local_date(campaign, campaign.official_starts_at)
    if not rule.makeup_enabled or not (first_day <= day < today):
        raise MakeupNotAllowed(details={"day": day.isoformat()})
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user_id).first()  # one member's make-ups happen one at a time
        if CheckIn.objects.filter(campaign=campaign, user_id=user_id, local_date=day).exists():
            raise MakeupNotAllowed(details={"day": day.isoformat(), "reason": "already checked in"})
        used = CheckIn.objects.filter(
            campaign=campaign,
            user_id=user_id,
            is_makeup=True,
            created_at__gte=month_start(campaign, now),
        ).count()
        if used >= rule.makeup_monthly_cap:
            raise MakeupLimitReached(details={"cap": rule.makeup_monthly_cap})
        key = f"makeup:{campaign.pk}:{user_id}:{day.isoformat()}"
        if rule.makeup_cost:
            campaign_points_charge(
                campaign=campaign,
                user_id=user_id,
                amount=rule.makeup_cost,
                kind=TransferKind.MAKEUP_CHECKIN,
                key=f"{key}:cost",
                now=now,
            )
        checkin = CheckIn.objects.create(
            campaign=campaign,
            user_id=user_id,
            local_date=day,
            streak=1,
            streak_start=day,
            is_makeup=True,
            points=rule.base_points,
        )
        _checkin_pay(checkin=checkin, campaign=campaign, now=now)
        _streaks_recompute(campaign=campaign, user_id=user_id, around=day)
        _after_commit_grant(campaign.pk, user_id)
    checkin.refresh_from_db()
    return checkin


def month_start(campaign: Campaign, now: datetime) -> datetime:
    zone = zoneinfo.ZoneInfo(campaign.timezone)
    local = now.astimezone(zone)
    return datetime(local.year, local.month, 1, tzinfo=zone)


def _streaks_recompute(*, campaign: Campaign, user_id: int, around: date) -> None:
    """Renumber the contiguous run of check-ins that contains `around` (after a make-up joined two runs)."""
    rows = list(CheckIn.objects.filter(campaign=campaign, user_id=user_id).order_by("local_date"))
    by_date = {row.local_date: row for row in rows}
    start = around
    while start - timedelta(days=1) in by_date:
        start -= timedelta(days=1)
    day, streak = start, 1
    while day in by_date:
        row = by_date[day]
        if (row.streak, row.streak_start) != (streak, start):
            CheckIn.objects.filter(pk=row.pk).update(streak=streak, streak_start=start)
        day, streak = day + timedelta(days=1), streak + 1


@dataclass(frozen=True)
class Milestone:
    cycle: int
    day: int
    points: int


def milestone_reached(rule: CheckInRule, streak: int) -> Milestone | None:
    """The milestone a check-in with this streak length reaches, if any (with cycling, the count restarts
    after the last milestone: day 8 of a 7-day cycle is day 1 of cycle 1)."""
    milestones = rule.milestone_list()
    if not milestones:
        return None
    last = milestones[-1][0]
    if rule.cycle:
        cycle, position = divmod(streak - 1, last)
        position += 1
    else:
        cycle, position = 0, streak
    for day, points in milestones:
        if day == position:
            return Milestone(cycle, day, points)
    return None


def streak_rewards_grant(*, campaign_id: int, user_id: int, now: datetime | None = None) -> int:
    """Pay every streak milestone this member has reached and not been paid. Idempotent per streak, cycle and
    milestone (ledger key + unique row), so re-delivered or concurrent jobs never pay twice. Returns how many
    rewards this call created."""
    now = now or timezone.now()
    campaign = Campaign.objects.get(pk=campaign_id)
    rule = CheckInRule.objects.filter(campaign=campaign).first()
    if rule is None or not rule.milestones:
        return 0
    paid = 0
    checkins = CheckIn.objects.filter(campaign=campaign, user_id=user_id).order_by("local_date")
    for checkin in checkins:
        reached = milestone_reached(rule, checkin.streak)
        if reached is None:
            continue
        # Within one unbroken run of days a milestone pays once, even if a make-up merged two runs later.
        already = StreakReward.objects.filter(
            campaign=campaign,
            user_id=user_id,
            cycle=reached.cycle,
            day=reached.day,
            checkin__local_date__gte=checkin.streak_start,
            checkin__local_date__lte=checkin.local_date,
        ).exists()
        if already:
            continue
        key = f"streak:{campaign.pk}:{user_id}:{checkin.streak_start}:{reached.cycle}:{reached.day}"
        with transaction.atomic():
            posted = campaign_points_grant(
                campaign=campaign,
                user_id=user_id,
                amount=reached.points,
                kind=TransferKind.STREAK_BONUS,
                key=key,
                now=now,
                source=checkin,
            )
            _reward, created = StreakReward.objects.get_or_create(
                campaign=campaign,
                user_id=user_id,
                streak_start=checkin.streak_start,
                cycle=reached.cycle,
                day=reached.day,
                defaults={"checkin": checkin, "points": reached.points, "transfer_id": posted.transfer_id},
            )
            paid += int(created and posted.created)
    return paid


def streak_rewards_sweep(*, now: datetime | None = None, lookback: timedelta = timedelta(days=2)) -> int:
    """Safety net for lost after-commit jobs: grant rewards for everyone who checked in recently."""
    now = now or timezone.now()
    pairs = CheckIn.objects.filter(created_at__gte=now - lookback).values_list("campaign_id", "user_id").distinct()
    return sum(streak_rewards_grant(campaign_id=c, user_id=u, now=now) for c, u in pairs)


def checkin_as_dict(checkin: CheckIn) -> dict[str, object]:
    return {
        "id": checkin.pk,
        "date": checkin.local_date.isoformat(),
        "streak": checkin.streak,
        "points": checkin.points,
        "is_makeup": checkin.is_makeup,
    }


def checkin_rule_validate(rule: CheckInRule) -> None:
    """Milestones must be a list of {"day": n > 0, "points": p > 0} with distinct days."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    problem = _('Milestones must look like [{"day": 3, "points": 10}] with distinct positive days and points.')
    items = rule.milestones or []
    if not isinstance(items, list):
        raise ValidationError({"milestones": [problem]})
    days = []
    for item in items:
        if not isinstance(item, dict) or set(item) != {"day", "points"}:
            raise ValidationError({"milestones": [problem]})
        day, points = item["day"], item["points"]
        if type(day) is not int or type(points) is not int or day <= 0 or points <= 0:
            raise ValidationError({"milestones": [problem]})
        days.append(day)
    if len(set(days)) != len(days):
        raise ValidationError({"milestones": [problem]})
    if rule.base_points <= 0:
        raise ValidationError({"base_points": [_("Give at least one point per check-in.")]})
    rule.milestones = sorted(items, key=lambda m: m["day"])


def checkin_rule_save(*, rule: CheckInRule) -> CheckInRule:
    checkin_rule_validate(rule)
    rule.save()
    return rule


# --- Tiered tasks: the one progress engine ----------------------------------------------------------------

FEATURE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def event_type_validate(value: str) -> str:
    """A known base type, or `feature_used:<name>` (lowercase letters, digits, `_ . -`)."""
    value = (value or "").strip()
    if value in EVENT_BASE_TYPES:
        return value
    if value.startswith(FEATURE_EVENT_PREFIX) and FEATURE_NAME.match(value[len(FEATURE_EVENT_PREFIX) :]):
        return value
    raise ValidationError(
        gettext("Unknown event type. Use one of %(types)s, or feature_used:<name>.")
        % {"types": ", ".join(EVENT_BASE_TYPES)}
    )


def task_definition_validate(task: TaskDefinition) -> None:
    errors: dict[str, list[str]] = {}
    try:
        task.event_type = event_type_validate(task.event_type)
    except ValidationError as exc:
        errors["event_type"] = exc.messages
    if not task.target_count or task.target_count <= 0:
        errors["target_count"] = [gettext("The target must be at least 1.")]
    if not task.reward_points or task.reward_points <= 0:
        errors["reward_points"] = [gettext("The reward must be at least 1 point.")]
    if task.min_amount is not None and task.min_amount < 0:
        errors["min_amount"] = [gettext("The minimum amount cannot be negative.")]
    prereq = task.prerequisite
    if prereq is not None:
        if prereq.campaign_id != task.campaign_id:
            errors["prerequisite"] = [gettext("The prerequisite must belong to the same campaign.")]
        else:
            seen = {task.pk} if task.pk else set()
            node: TaskDefinition | None = prereq
            while node is not None:
                if node.pk in seen:
                    errors["prerequisite"] = [gettext("Prerequisites cannot form a loop.")]
                    break
                seen.add(node.pk)
                node = node.prerequisite
    if errors:
        raise ValidationError(errors)


def task_definition_save(*, task: TaskDefinition) -> TaskDefinition:
    task_definition_validate(task)
    task.save()
    return task


def window_key(task: TaskDefinition, campaign: Campaign, at: datetime) -> str:
    """'all', the campaign-local date, or the campaign-local ISO week of `at`."""
    if task.window == TaskWindow.DAILY:
        return local_date(campaign, at).isoformat()
    if task.window == TaskWindow.WEEKLY:
        year, week, _weekday = local_date(campaign, at).isocalendar()
        return f"{year}-W{week:02d}"
    return "all"


def _cycle_key(base: str, cycle: int) -> str:
    return base if cycle == 0 else f"{base}:{cycle}"


def cycle_of(base: str, key: str) -> int:
    return 0 if key == base else int(key.rsplit(":", 1)[1])


def task_completed_ever(*, task_id: int, user_id: int) -> bool:
    return TaskProgress.objects.filter(task_id=task_id, user_id=user_id, completed_at__isnull=False).exists()


@dataclass
class ProgressEffect:
    task_id: int
    window_key: str
    count: int
    completed: bool
    rewarded: bool


def _grant_reward(*, task: TaskDefinition, campaign: Campaign, row: TaskProgress, now: datetime) -> None:
    """Pay a completed progress row (caller holds its row lock). The ledger key makes a second payment for
    the same task, member and window impossible even if this row were somehow processed twice."""
    posted = campaign_points_grant(
        campaign=campaign,
        user_id=row.user_id,
        amount=task.reward_points,
        kind=TransferKind.TASK_REWARD,
        key=f"task:{task.pk}:{row.user_id}:{row.window_key}",
        now=now,
        source=row,
        reason=task.title[:100],
    )
    TaskProgress.objects.filter(pk=row.pk, claimed_at__isnull=True).update(
        claimed_at=now, reward_transfer_id=posted.transfer_id
    )
    row.claimed_at, row.reward_transfer_id = now, posted.transfer_id


def progress_record(
    *,
    campaign: Campaign,
    user_id: int,
    event_type: str,
    amount: Decimal | None,
    occurred_at: datetime,
    source_key: str,
    now: datetime | None = None,
) -> list[ProgressEffect]:
    """Count one qualifying action towards every matching active task of the campaign.

    The caller deduplicates the action itself (a check-in row, an ingested event id); `source_key` names it
    in the ledger reason. Events for a task whose prerequisite is not completed yet do not count. Each
    progress row is created with INSERT … ON CONFLICT DO NOTHING and then locked (SELECT … FOR UPDATE), so
    concurrent events for one member serialise on that row. Reaching the target stamps `completed_at`;
    auto-reward tasks pay at once. Runs inside the caller's transaction when there is one."""
    now = now or timezone.now()
    tasks = [
        task
        for task in TaskDefinition.objects.filter(campaign=campaign, event_type=event_type, is_active=True)
        if task.min_amount is None or (amount is not None and amount >= task.min_amount)
    ]
    effects: list[ProgressEffect] = []
    if not tasks:
        return effects
    with transaction.atomic():
        for task in tasks:
            if task.prerequisite_id and not task_completed_ever(task_id=task.prerequisite_id, user_id=user_id):
                continue
            base = window_key(task, campaign, occurred_at)
            keys = TaskProgress.objects.filter(task=task, user_id=user_id, window_key__startswith=base).values_list(
                "window_key", flat=True
            )
            cycle = max((cycle_of(base, k) for k in keys if k == base or k.startswith(base + ":")), default=0)
            row: TaskProgress | None = None
            while row is None:
                key = _cycle_key(base, cycle)
                TaskProgress.objects.bulk_create(
                    [TaskProgress(task=task, user_id=user_id, window_key=key)], ignore_conflicts=True
                )
                row = TaskProgress.objects.select_for_update().get(task=task, user_id=user_id, window_key=key)
                if row.completed_at is not None:
                    if not task.repeatable:
                        break  # done for this window: the event counts no further
                    row, cycle = None, cycle + 1
            if row is None or row.completed_at is not None:
                continue
            row.count += 1
            if row.count >= task.target_count:
                row.completed_at = now
            row.save(update_fields=["count", "completed_at", "updated_at"])
            if row.completed_at and task.auto_reward:
                _grant_reward(task=task, campaign=campaign, row=row, now=now)
            effects.append(
                ProgressEffect(task.pk, key, row.count, row.completed_at is not None, row.claimed_at is not None)
            )
    return effects


def task_claim(*, campaign: Campaign, user_id: int, task_id: int, now: datetime | None = None) -> TaskProgress:
    """Pay a completed, not yet paid task (the oldest such window first). Concurrent claims serialise on the
    progress row and the update only succeeds while `claimed_at` is NULL; the ledger key backs it up."""
    now = now or timezone.now()
    phase = campaign.phase_at(now)
    if phase not in (Phase.OFFICIAL, Phase.FOLLOWUP):
        raise CampaignNotActive(details={"phase": str(phase)})
    if not 0 < task_id < 2**63:
        raise TaskNotFound()
    task = TaskDefinition.objects.filter(campaign=campaign, pk=task_id, is_active=True).first()
    if task is None:
        raise TaskNotFound()
    if task.prerequisite_id and not task_completed_ever(task_id=task.prerequisite_id, user_id=user_id):
        raise TaskLocked(details={"prerequisite": task.prerequisite_id})
    with transaction.atomic():
        row = (
            TaskProgress.objects.select_for_update()
            .filter(task=task, user_id=user_id, completed_at__isnull=False, claimed_at__isnull=True)
            .order_by("completed_at", "id")
            .first()
        )
        if row is None:
            paid = (
                TaskProgress.objects.filter(task=task, user_id=user_id, claimed_at__isnull=False)
                .order_by("-claimed_at")
                .first()
            )
            if paid is not None:
                raise TaskAlreadyClaimed(
                    details={"task": task.pk, "window": paid.window_key, "transfer": paid.reward_transfer_id}
                )
            raise TaskNotCompleted(details={"task": task.pk, "target": task.target_count})
        _grant_reward(task=task, campaign=campaign, row=row, now=now)
    return row


# --- Partner API keys and event ingestion -----------------------------------------------------------------

MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_EVENTS_PER_REQUEST = 1000


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


@dataclass
class EventResult:
    event_id: str
    status: str  # accepted | duplicate | rejected
    code: str = ""
    message: str = ""
    effects: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "status": self.status, "code": self.code, "message": self.message}


class _Reject(Exception):
    def __init__(self, code: str, message: str) -> None:
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
        raise _Reject("invalid_event", gettext("Each event must be a JSON object."))
    missing = [name for name in ("event_id", "member", "type", "occurred_at") if raw.get(name) in (None, "")]
    if missing:
        raise _Reject("missing_field", gettext("Missing field(s): %(fields)s.") % {"fields": ", ".join(missing)})
    if any(isinstance(v, str) and "\x00" in v for v in raw.values()):
        raise _Reject("invalid_event", gettext("Text fields must not contain NUL characters."))
    event_id = raw["event_id"]
    if not isinstance(event_id, str | int) or isinstance(event_id, bool) or not (0 < len(str(event_id)) <= 100):
        raise _Reject("invalid_event_id", gettext("event_id must be a string of 1-100 characters."))
    if not isinstance(raw["type"], str):
        raise _Reject("unknown_type", gettext("Unknown event type."))
    try:
        event_type = event_type_validate(raw["type"])
    except ValidationError as exc:
        raise _Reject("unknown_type", exc.messages[0]) from exc
    amount: Decimal | None = None
    if raw.get("amount") is not None:
        value = raw["amount"]
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise InvalidOperation
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError) as exc:
            raise _Reject("invalid_amount", gettext("amount must be a number.")) from exc
        if (
            not amount.is_finite()
            or amount < 0
            or amount >= Decimal("1e10")
            or amount != amount.quantize(Decimal("0.01"))
        ):
            raise _Reject(
                "invalid_amount", gettext("amount must be zero or positive, with at most two decimal places.")
            )
    occurred = raw["occurred_at"]
    try:
        occurred_at = parse_datetime(occurred) if isinstance(occurred, str) else None
    except ValueError:  # well-formed but impossible, e.g. month 13
        occurred_at = None
    if occurred_at is None or timezone.is_naive(occurred_at):
        raise _Reject("invalid_occurred_at", gettext("occurred_at must be an ISO 8601 time with a timezone offset."))
    if occurred_at > now + MAX_CLOCK_SKEW:
        raise _Reject("occurred_in_future", gettext("occurred_at is in the future."))
    if campaign.phase_at(occurred_at) != Phase.OFFICIAL:
        raise _Reject("outside_official_phase", gettext("The event happened outside the campaign's official phase."))
    member = raw["member"]
    user = user_by_identifier(identifier=member) if isinstance(member, str) and len(member) <= 254 else None
    if user is None or not user.is_active:
        raise _Reject("unknown_member", gettext("No member with that phone, email or external id."))
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
            results.append(EventResult(shown_id, "rejected", rejected.code, rejected.message))
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
                    event.event_id, "duplicate", "duplicate_event", gettext("Already received; not counted again.")
                )
            )
            continue
        results.append(EventResult(event.event_id, "accepted", "", "", [e.__dict__ for e in effects]))
    return results


@dataclass(frozen=True)
class EventBatchOutcome:
    results: list[EventResult]

    def count(self, status: str) -> int:
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
