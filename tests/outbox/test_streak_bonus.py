"""The streak bonus through the outbox (ADR 0008): the check-in's one SQL statement records the job, a broker that was
down or a worker that died mid-job delays the bonus by the relay's delay instead of the 5-minute sweep, and the job
pays once however often it is delivered. The "worker" here is the real Celery task run in-process (`apply`) with what
was published; tests/outbox/test_worker.py uses a real worker."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from campaigns.errors import CampaignNotActive
from outbox.models import Entry, EntryStatus
from outbox.services import DELAY, outbox_relay
from points import selectors as ledger
from points.models import Transfer
from tasks import checkins, jobs, streaks
from tasks.checkins import STREAK_JOB, streak_outbox_key
from tasks.errors import AlreadyCheckedIn
from tasks.models import StreakReward
from tests.outbox.conftest import Broker
from tests.tasks.conftest import OFFICIAL, local

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)
AT = local(2026, 3, 3, 9, 1)  # when the "worker" runs the jobs (they read the clock)


class WorkerDied(Exception):
    """Stands for a worker killed in the middle of the job: its transaction never commits."""


def balance(user) -> int:
    return ledger.balance_for(user_id=user.pk, now=OFFICIAL + timedelta(days=100)).spendable


def deliver(broker: Broker, *, at: datetime) -> list[Any]:
    """A worker consuming everything published so far, at `at` (each message runs the real task in-process)."""
    results = []
    with mock.patch("django.utils.timezone.now", return_value=at):
        for name, args, kwargs in broker.sent:
            assert name == STREAK_JOB
            result = jobs.streak_rewards_grant.apply(args=tuple(args), kwargs=kwargs)
            assert result.successful(), result.traceback
            results.append(result.get())
    broker.sent.clear()
    return results


def three_days(campaign, member, django_capture_on_commit_callbacks) -> None:
    for day in (1, 2, 3):
        with django_capture_on_commit_callbacks(execute=True):
            checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, day, 9))


def test_the_checkin_records_its_streak_job_in_its_own_statement_and_publishes_it_after_commit(
    campaign, member, broker: Broker, django_capture_on_commit_callbacks
):
    now = local(2026, 3, 3, 9)  # the third day of the streak reaches the milestone
    for day in (1, 2):  # no milestone: no job (and the content types are cached)
        checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, day, 9))
    assert not Entry.objects.exists()
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        checkin = checkins.checkin_create(campaign=campaign, user_id=member.pk, now=now)
    # One statement (the test's transaction adds a savepoint around it): no round trip for the outbox.
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1
    assert "tasks_checkin(" in statements[0]
    key = streak_outbox_key(campaign.pk, member.pk, checkin.local_date)
    assert key == f"tasks.streak:{campaign.pk}:{member.pk}:2026-03-03"  # the SQL built the same key
    row = Entry.objects.get(key=key)
    assert (row.job, row.args, row.status, row.created_at) == (STREAK_JOB, [campaign.pk, member.pk], "pending", now)
    assert broker.sent[-1] == (STREAK_JOB, [campaign.pk, member.pk], {"outbox_key": key})


def test_a_refused_or_repeated_checkin_records_no_job(campaign, member, broker: Broker):
    for day in (1, 2, 3):
        checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, day, 9))
    with pytest.raises(AlreadyCheckedIn):
        checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, 3, 10))
    with pytest.raises(CampaignNotActive):
        checkins.checkin_create(campaign=campaign, user_id=member.pk, now=OFFICIAL - SECOND)
    assert Entry.objects.count() == 1


def test_with_the_broker_down_the_relay_delivers_the_bonus_after_its_delay(
    campaign, member, broker: Broker, django_capture_on_commit_callbacks
):
    broker.down = True
    three_days(campaign, member, django_capture_on_commit_callbacks)  # no error reaches the member
    assert broker.sent == []
    assert not StreakReward.objects.exists()

    broker.down = False
    day3 = local(2026, 3, 3, 9)
    assert outbox_relay(now=day3 + DELAY - SECOND).published == 0  # days 1 and 2 reached no milestone: no job
    assert outbox_relay(now=day3 + DELAY).published == 1
    assert sum(deliver(broker, at=AT)) == 1  # the day-3 bonus, once (the first job to run pays it)
    assert list(StreakReward.objects.values_list("day", "points")) == [(3, 10)]
    assert balance(member) == 3 * 5 + 10
    assert set(Entry.objects.values_list("status", flat=True)) == {EntryStatus.DONE}


def test_a_streak_job_killed_mid_run_is_published_again_and_pays_once(
    campaign, member, broker: Broker, django_capture_on_commit_callbacks, monkeypatch
):
    three_days(campaign, member, django_capture_on_commit_callbacks)
    day3_key = streak_outbox_key(campaign.pk, member.pk, local(2026, 3, 3).date())
    first = [m for m in broker.sent if m[2]["outbox_key"] == day3_key]
    broker.sent.clear()

    real_grant = streaks.streak_rewards_grant

    def dies_after_paying(**kwargs: Any) -> int:
        real_grant(**kwargs)  # the bonus is posted in the job's transaction …
        raise WorkerDied  # … and the worker dies before it commits

    monkeypatch.setattr(streaks, "streak_rewards_grant", dies_after_paying)
    with pytest.raises(WorkerDied):
        jobs.streak_rewards_grant.apply(args=tuple(first[0][1]), kwargs=first[0][2], throw=True)
    monkeypatch.setattr(streaks, "streak_rewards_grant", real_grant)
    assert not StreakReward.objects.exists()
    assert not Transfer.objects.filter(kind="streak_bonus").exists()
    assert Entry.objects.get(key=day3_key).status == EntryStatus.PENDING

    day3 = local(2026, 3, 3, 9)
    assert outbox_relay(now=day3 + DELAY).published == 1  # the day-3 job (days 1 and 2 recorded none)
    assert sum(deliver(broker, at=AT)) == 1
    # The broker's own redelivery of the message the dead worker held (after its visibility timeout): nothing.
    broker.sent.extend(first)
    assert deliver(broker, at=AT) == [0]
    assert list(StreakReward.objects.values_list("day", "points")) == [(3, 10)]
    assert Transfer.objects.filter(kind="streak_bonus").count() == 1
    assert balance(member) == 3 * 5 + 10
    assert outbox_relay(now=day3 + timedelta(hours=2)).published == 0  # all done


def test_a_makeup_checkin_records_its_job_in_its_transaction(
    campaign, member, broker: Broker, django_capture_on_commit_callbacks
):
    for day in (1, 3):
        with django_capture_on_commit_callbacks(execute=True):
            checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, day, 9))
    broker.sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        checkins.checkin_makeup(
            campaign=campaign, user_id=member.pk, day=local(2026, 3, 2).date(), now=local(2026, 3, 3, 10)
        )
    key = streak_outbox_key(campaign.pk, member.pk, local(2026, 3, 2).date())
    assert broker.keys() == [key]
    assert sum(deliver(broker, at=AT)) == 1  # the make-up joined days 1-3: the day-3 bonus
    assert Entry.objects.get(key=key).status == EntryStatus.DONE
    assert balance(member) == 3 * 5 + 10


def test_a_makeup_rolled_back_takes_its_job_with_it(
    campaign, member, broker: Broker, django_capture_on_commit_callbacks
):
    checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, 1, 9))
    key = streak_outbox_key(campaign.pk, member.pk, local(2026, 3, 2).date())
    broker.sent.clear()

    def makeup_then_fail() -> None:
        with transaction.atomic():
            checkins.checkin_makeup(
                campaign=campaign, user_id=member.pk, day=local(2026, 3, 2).date(), now=local(2026, 3, 3, 10)
            )
            assert Entry.objects.filter(key=key).exists()
            raise WorkerDied  # the caller's transaction fails after the make-up

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(WorkerDied):
        makeup_then_fail()
    assert not Entry.objects.filter(key=key).exists()
    assert broker.sent == []
