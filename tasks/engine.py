"""The task engine: task definitions, the one progress engine (`progress_record`) and reward claims. Called by
check-ins (event `checkin`), the prize wheel (`spin`) and partner event ingestion (`tasks.events`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from campaigns.models import Campaign
from campaigns.selectors import campaign_require_claims_open
from campaigns.services import campaign_points_grant
from tasks import kinds
from tasks.errors import TaskAlreadyClaimed, TaskLocked, TaskNotCompleted, TaskNotFound
from tasks.models import TaskDefinition, TaskProgress
from tasks.rules import cycle_key, cycle_of, event_type_validate, window_key


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
                key = cycle_key(base, cycle)
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
