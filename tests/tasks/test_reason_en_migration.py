"""tasks 0007 fills the English reason of task rewards paid before transfers had one. Its SQL runs here as the
migration runs it: the ledger's immutability trigger lifted for that one statement, then back."""

from __future__ import annotations

import importlib

import pytest
from django.db import DatabaseError, connection, transaction

from points.models import Transfer
from points.services import Member, System, transfer_post
from tasks.kinds import TASK_REWARD
from tasks.models import TaskDefinition, TaskProgress

from .conftest import local

pytestmark = pytest.mark.django_db
MIGRATION = importlib.import_module("tasks.migrations.0007_transfer_reason_en").Migration


def paid_before_reason_en(task: TaskDefinition, user, window: str, reason: str) -> int:
    """A reward as paid before 0007: only the Chinese reason stored."""
    now = local(2026, 3, 2)
    posted = transfer_post(
        key=f"task:{task.pk}:{user.pk}:{window}",
        debit=System("issuance", task.campaign_id),
        credit=Member(user.pk),
        amount=task.reward_points,
        kind=TASK_REWARD,
        campaign_id=task.campaign_id,
        reason=reason,
        now=now,
    )
    TaskProgress.objects.create(
        task=task, user=user, window_key=window, count=1, completed_at=now, claimed_at=now,
        reward_transfer_id=posted.transfer_id,
    )  # fmt: skip
    return posted.transfer_id


def task(campaign, title: str, title_en: str) -> TaskDefinition:
    return TaskDefinition.objects.create(
        campaign=campaign, title=title, title_en=title_en, event_type="checkin", reward_points=10
    )


def test_rewards_get_their_tasks_english_title_and_the_ledger_stays_immutable(campaign, member) -> None:
    checkin = paid_before_reason_en(task(campaign, "完成 1 次签到", "Check in once"), member, "all", "完成 1 次签到")
    chinese_only = paid_before_reason_en(task(campaign, "分享海报", ""), member, "all", "分享海报")
    renamed = task(campaign, "邀请 3 位好友", "Invite 3 friends")
    renamed_reward = paid_before_reason_en(renamed, member, "all", "邀请 2 位好友")  # paid under the old title
    other_kind = transfer_post(
        key="earn", debit=System("issuance"), credit=Member(member.pk), amount=1, kind="earn", reason="完成 1 次签到"
    ).transfer_id

    with connection.cursor() as cursor:
        for statement in MIGRATION.operations[0].sql:
            cursor.execute(statement)

    english = dict(Transfer.objects.values_list("pk", "reason_en"))
    assert english == {checkin: "Check in once", chinese_only: "", renamed_reward: "", other_kind: ""}
    assert Transfer.objects.get(pk=checkin).reason == "完成 1 次签到"  # the Chinese is untouched
    # The trigger is on again: a transfer still cannot be changed.
    with pytest.raises(DatabaseError), transaction.atomic():
        Transfer.objects.filter(pk=checkin).update(reason_en="changed")
