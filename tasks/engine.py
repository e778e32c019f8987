"""The task engine: task definitions, the one progress engine (`progress_record`) and reward claims. Called by
check-ins (event `checkin`), the prize wheel (`spin`) and partner event ingestion (`tasks.events`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from campaigns.earning import member_earned
from campaigns.models import Campaign
from campaigns.selectors import campaign_require_claims_open
from campaigns.services import campaign_points_grant
from config.sql_call import prepared_call
from points import errors as points_errors
from tasks import kinds
from tasks.errors import TaskAlreadyClaimed, TaskLocked, TaskNotCompleted, TaskNotFound
from tasks.models import TaskDefinition, TaskProgress
from tasks.rules import event_type_validate


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
        kind=kinds.TASK_REWARD,
        key=f"task:{task.pk}:{row.user_id}:{row.window_key}",
        now=now,
        source=row,
        reason=task.title[:100],
        reason_en=task.title_en[:100],
    )
    TaskProgress.objects.filter(pk=row.pk, claimed_at__isnull=True).update(
        claimed_at=now, reward_transfer_id=posted.transfer_id
    )
    row.claimed_at, row.reward_transfer_id = now, posted.transfer_id


_PROGRESS_SQL = (
    "SELECT * FROM tasks_progress_record(%s::bigint, %s::bigint, %s::text, %s::numeric, %s::timestamptz, "
    "%s::timestamptz, %s::integer)"
)
# A posting that tasks' SQL (tasks_checkin, tasks_progress_record) got refused by the ledger raises TK001 with the
# ledger's status as message: the same errors as points.services would raise for it.
_REFUSALS: dict[str, type[points_errors.LedgerError]] = {
    "account_not_found": points_errors.AccountNotFound,
    "asset_mismatch": points_errors.AssetMismatch,
    "same_account": points_errors.SameAccount,
    "insufficient": points_errors.InsufficientPoints,
}


def _refusal(exc: DatabaseError) -> Exception:
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None)
    diag = getattr(cause, "diag", None)
    detail: Any = getattr(diag, "message_detail", None)
    if isinstance(detail, str) and detail.lstrip("-").isdigit():
        detail = int(detail)  # an id, as points_post returns it
    if state == "TK001":
        status = getattr(diag, "message_primary", None) or ""
        if status == "conflict":
            return points_errors.IdempotencyConflict(details={"existing": detail})
        if status in _REFUSALS:
            return _REFUSALS[status]()
        return points_errors.LedgerError(details={"status": status})
    error_cls = points_errors.SQLSTATE_ERRORS.get(state or "")
    if error_cls is points_errors.IdempotencyConflict:
        return points_errors.IdempotencyConflict(details={"existing": detail})
    if error_cls is not None:
        return error_cls()
    return exc


def tasks_sql(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Call one of tasks' SQL functions (tasks/sql/) on Django's connection as a server-side prepared statement
    (config.sql_call): alone it is one statement, one transaction, one round trip; inside the caller's transaction
    it runs in a savepoint, so a refusal leaves the caller's transaction usable. Ledger refusals become the
    ledger's domain errors; any other database error is Django's, as from a Django cursor."""
    try:
        with connection.wrap_database_errors:
            if connection.in_atomic_block:
                with transaction.atomic():
                    return prepared_call(sql, params)
            return prepared_call(sql, params)
    except DatabaseError as exc:
        refusal = _refusal(exc)
        if refusal is exc:
            raise
        raise refusal from exc


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
    """Count one qualifying action towards every matching active task of the campaign: one call of
    tasks_progress_record() (tasks/sql/tasks_progress_record.sql), which re-reads the task definitions itself.

    The caller deduplicates the action itself (a check-in row, an ingested event id; `source_key` names it for
    the reader). Events for a task whose prerequisite is not completed yet do not count. Each progress row is
    created with INSERT … ON CONFLICT DO NOTHING and then locked (SELECT … FOR UPDATE), so concurrent events for
    one member serialise on that row. Reaching the target stamps `completed_at`; auto-reward tasks pay at once
    (campaign_grant, the value gate). Runs inside the caller's transaction when there is one."""
    now = now or timezone.now()
    progress_type = ContentType.objects.get_for_model(TaskProgress).pk
    rows = tasks_sql(_PROGRESS_SQL, [campaign.pk, user_id, event_type, amount, occurred_at, now, progress_type])
    effects = [ProgressEffect(*row) for row in rows]
    if any(effect.rewarded for effect in effects):  # auto-reward tasks paid in the SQL: the earning hooks
        member_earned(user_id=user_id, kind=kinds.TASK_REWARD)
    return effects


def task_claim(*, campaign: Campaign, user_id: int, task_id: int, now: datetime | None = None) -> TaskProgress:
    """Pay a completed, not yet paid task (the oldest such window first). Concurrent claims serialise on the
    progress row and the update only succeeds while `claimed_at` is NULL; the ledger key backs it up."""
    now = now or timezone.now()
    campaign_require_claims_open(campaign=campaign, now=now)
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
