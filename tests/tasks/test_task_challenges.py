from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from points import selectors as ledger
from points.models import Transfer
from tasks import checkins, engine, selectors
from tasks.errors import TaskAlreadyClaimed, TaskLocked, TaskNotCompleted
from tasks.models import TaskDefinition, TaskProgress
from tests.conftest import run_concurrently
from tests.tasks.conftest import OFFICIAL, local

pytestmark = pytest.mark.django_db


def balance(user) -> int:
    return ledger.balance_for(user_id=user.pk, now=OFFICIAL + timedelta(days=100)).spendable


def make_task(campaign, **kwargs) -> TaskDefinition:
    kwargs.setdefault("title", "买买买")
    kwargs.setdefault("event_type", "purchase")
    kwargs.setdefault("reward_points", 30)
    return engine.task_definition_save(task=TaskDefinition(campaign=campaign, **kwargs))


def record(campaign, user, *, event_type="purchase", amount=None, at=None, key="x"):
    return engine.progress_record(
        campaign=campaign,
        user_id=user.pk,
        event_type=event_type,
        amount=Decimal(amount) if amount is not None else None,
        occurred_at=at or local(2026, 3, 2),
        source_key=key,
        now=at or local(2026, 3, 2),
    )


def test_target_three_completes_on_third_event_and_pays_once(campaign, member):
    task = make_task(campaign, target_count=3)
    record(campaign, member)
    record(campaign, member)
    assert not TaskProgress.objects.get(task=task).completed_at
    assert balance(member) == 0
    effects = record(campaign, member)
    assert effects[0].completed
    assert effects[0].rewarded
    row = TaskProgress.objects.get(task=task)
    assert (row.count, row.window_key) == (3, "all")
    assert row.claimed_at
    assert row.reward_transfer_id
    record(campaign, member)  # a fourth event on a completed, non-repeatable task does nothing
    assert TaskProgress.objects.get(task=task).count == 3
    assert balance(member) == 30
    assert Transfer.objects.filter(kind="task_reward").count() == 1
    with pytest.raises(TaskAlreadyClaimed):
        engine.task_claim(campaign=campaign, user_id=member.pk, task_id=task.pk, now=local(2026, 3, 2))


def test_min_amount_filters_small_events(campaign, member):
    task = make_task(campaign, target_count=2, min_amount=Decimal("100.00"))
    record(campaign, member, amount="99.99")
    record(campaign, member)  # no amount at all does not qualify either
    assert not TaskProgress.objects.filter(task=task).exists()
    record(campaign, member, amount="100")
    record(campaign, member, amount="250.50")
    assert TaskProgress.objects.get(task=task).completed_at is not None
    assert balance(member) == 30


def test_daily_window_resets_next_local_day(campaign, member):
    task = make_task(campaign, target_count=2, window="daily")
    record(campaign, member, at=local(2026, 3, 2, 23, 59))
    record(campaign, member, at=local(2026, 3, 3, 0, 1))  # next Shanghai day: a new window
    rows = dict(TaskProgress.objects.filter(task=task).values_list("window_key", "count"))
    assert rows == {"2026-03-02": 1, "2026-03-03": 1}
    record(campaign, member, at=local(2026, 3, 3, 9, 0))
    assert TaskProgress.objects.get(task=task, window_key="2026-03-03").completed_at is not None
    assert balance(member) == 30
    [card] = selectors.tasks_for_member(campaign=campaign, user_id=member.pk, now=local(2026, 3, 4))[0].tasks
    assert (card.count, card.completed) == (0, False)  # a fresh day


def test_weekly_window_uses_iso_weeks(campaign, member):
    task = make_task(campaign, window="weekly")
    record(campaign, member, at=local(2026, 3, 8, 23, 0))  # Sunday, ISO week 10
    record(campaign, member, at=local(2026, 3, 9, 1, 0))  # Monday, week 11
    assert set(TaskProgress.objects.filter(task=task).values_list("window_key", flat=True)) == {
        "2026-W10",
        "2026-W11",
    }
    assert balance(member) == 60


def test_repeatable_task_opens_a_new_cycle_each_completion(campaign, member):
    task = make_task(campaign, target_count=1, repeatable=True, window="daily")
    for _ in range(3):
        record(campaign, member)
    keys = sorted(TaskProgress.objects.filter(task=task).values_list("window_key", flat=True))
    assert keys == ["2026-03-02", "2026-03-02:1", "2026-03-02:2"]
    assert balance(member) == 90


def test_claim_incomplete_then_complete(campaign, member):
    task = make_task(campaign, target_count=2, auto_reward=False)
    with pytest.raises(TaskNotCompleted) as exc:
        engine.task_claim(campaign=campaign, user_id=member.pk, task_id=task.pk, now=local(2026, 3, 2))
    assert exc.value.status == 422
    record(campaign, member)
    record(campaign, member)
    assert balance(member) == 0  # waits for the member
    [card] = selectors.tasks_for_member(campaign=campaign, user_id=member.pk, now=local(2026, 3, 2))[0].tasks
    assert card.claimable
    row = engine.task_claim(campaign=campaign, user_id=member.pk, task_id=task.pk, now=local(2026, 3, 2))
    assert row.reward_transfer_id
    assert balance(member) == 30
    with pytest.raises(TaskAlreadyClaimed) as exc:
        engine.task_claim(campaign=campaign, user_id=member.pk, task_id=task.pk, now=local(2026, 3, 2))
    assert exc.value.status == 409


def test_prerequisite_locks_progress_and_claim(campaign, member):
    first = make_task(campaign, title="新手任务", event_type="feature_used:profile", reward_points=5)
    second = make_task(campaign, title="进阶任务", tier="intermediate", prerequisite=first, auto_reward=False)
    record(campaign, member)  # purchase while locked: does not count
    assert not TaskProgress.objects.filter(task=second).exists()
    with pytest.raises(TaskLocked):
        engine.task_claim(campaign=campaign, user_id=member.pk, task_id=second.pk, now=local(2026, 3, 2))
    groups = selectors.tasks_for_member(campaign=campaign, user_id=member.pk, now=local(2026, 3, 2))
    locked = groups[1].tasks[0]
    assert locked.locked
    assert "新手任务" in locked.locked_reason
    record(campaign, member, event_type="feature_used:profile")
    record(campaign, member)
    engine.task_claim(campaign=campaign, user_id=member.pk, task_id=second.pk, now=local(2026, 3, 2))
    assert balance(member) == 35


def test_task_validation(campaign):
    with pytest.raises(ValidationError) as exc:
        make_task(campaign, event_type="teleport")
    assert "event_type" in exc.value.message_dict
    with pytest.raises(ValidationError):
        make_task(campaign, event_type="feature_used:")
    with pytest.raises(ValidationError) as exc:
        make_task(campaign, target_count=0, reward_points=0)
    assert {"target_count", "reward_points"} <= set(exc.value.message_dict)
    a = make_task(campaign)
    b = make_task(campaign, prerequisite=a)
    a.prerequisite = b
    with pytest.raises(ValidationError) as exc:
        engine.task_definition_save(task=a)
    assert "prerequisite" in exc.value.message_dict
    assert make_task(campaign, event_type="feature_used:share_poster").pk


def test_checkin_feeds_a_checkin_task(campaign, member):
    task = make_task(campaign, event_type="checkin", target_count=2, reward_points=15)
    checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, 2))
    checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, 3))
    row = TaskProgress.objects.get(task=task)
    assert row.count == 2
    assert row.completed_at is not None
    assert balance(member) == 5 + 5 + 15


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_pay_once(campaign, member):
    task = make_task(campaign, auto_reward=False)
    record(campaign, member)

    def claim(_i: int):
        return engine.task_claim(campaign=campaign, user_id=member.pk, task_id=task.pk, now=local(2026, 3, 2))

    results = run_concurrently(8, claim)
    paid = [r for r in results if isinstance(r, TaskProgress)]
    assert len(paid) == 1, results
    assert all(isinstance(r, TaskAlreadyClaimed) for r in results if r not in paid)
    assert Transfer.objects.filter(kind="task_reward").count() == 1
    assert balance(member) == 30


@pytest.mark.django_db(transaction=True)
def test_concurrent_events_count_each_once(campaign, member):
    task = make_task(campaign, target_count=5)
    run_concurrently(8, lambda i: record(campaign, member, key=str(i)))
    row = TaskProgress.objects.get(task=task)
    assert row.count == 5  # 8 events, target 5: stops at completion
    assert Transfer.objects.filter(kind="task_reward").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_actions_of_a_one_action_task_complete_and_pay_once(campaign, member):
    """A window's first action makes the progress row already counting it (tasks_progress_record); the others of a
    burst wait on the unique index, find it completed and count no further."""
    task = make_task(campaign, target_count=1)
    run_concurrently(8, lambda i: record(campaign, member, key=str(i)))
    row = TaskProgress.objects.get(task=task)
    assert (row.count, row.completed_at is not None, row.claimed_at is not None) == (1, True, True)
    assert Transfer.objects.filter(kind="task_reward").count() == 1
    assert balance(member) == 30
