"""The transactional outbox (ADR 0008): a job a member waits for commits or rolls back with its effect, is published
after commit, is published again by the relay while it is pending past its due time (a broker that was down, a job
whose worker died before it committed), runs once in effect, and is pruned once done. Time is passed as `now=`."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import DataError, IntegrityError, connection, connections, transaction
from django.utils import timezone

from outbox import jobs, services
from outbox.models import Entry, EntryStatus
from outbox.services import DELAY, MAX_ATTEMPTS, RETENTION, outbox_add, outbox_prune, outbox_relay, outbox_run
from tests.outbox.conftest import T0, Broker

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)
JOB = "tests.bonus"


class WorkerDied(Exception):
    """Stands for a worker killed in the middle of a job: its transaction never commits."""


def add(key: str = "k1", *, args: tuple[int, ...] = (7, 8), now=T0) -> bool:
    with transaction.atomic():
        return outbox_add(job=JOB, args=list(args), key=key, now=now)


def entry(key: str = "k1") -> Entry:
    return Entry.objects.get(key=key)


def effects() -> list[str]:
    """The effects written by the tests (groups named "fx: …"; the staff groups exist already)."""
    return sorted(Group.objects.filter(name__startswith="fx: ").values_list("name", flat=True))


# --- Recording: with the effect, in its transaction --------------------------------------------------------------


def test_the_row_commits_with_the_effect_and_is_published_after_commit(
    broker: Broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Group.objects.create(name="fx: the effect")
        assert outbox_add(job=JOB, args=[7, 8], key="k1", now=T0) is True
        assert broker.sent == []  # nothing before the commit: a worker must find the effect committed
    assert broker.sent == [(JOB, [7, 8], {"outbox_key": "k1"})]
    row = entry()
    assert (row.job, row.args, row.status, row.attempts, row.published_at, row.done_at) == (
        JOB, [7, 8], EntryStatus.PENDING, 0, None, None,
    )  # fmt: skip
    # The SQL function sets the first due time; the relay's DELAY is the same.
    assert (row.created_at, row.due_at) == (T0, T0 + DELAY)


def test_the_row_rolls_back_with_the_effect_and_nothing_is_published(
    broker: Broker, django_capture_on_commit_callbacks
):
    def effect_that_fails() -> None:
        with transaction.atomic():
            assert outbox_add(job=JOB, args=[1], key="k1", now=T0) is True
            Group.objects.create(name="fx: the effect")
            Group.objects.create(name="fx: the effect")  # the effect fails after the row was written

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(IntegrityError):
        effect_that_fails()
    assert not Entry.objects.exists()
    assert effects() == []
    assert broker.tries == 0


def test_sql_callers_write_the_row_inside_their_own_statement_and_transaction():
    """What a SQL function (the check-in) does: call outbox_add() where the effect happens; no extra round trip."""

    def effect_that_fails() -> None:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT outbox_add('k1', %s, '[1, 2]'::jsonb, %s)", [JOB, T0])
                assert cursor.fetchone() == (True,)
            assert Entry.objects.filter(key="k1", args=[1, 2]).exists()  # visible inside the transaction
            Group.objects.create(name="fx: dup")
            Group.objects.create(name="fx: dup")

    with pytest.raises(IntegrityError):
        effect_that_fails()
    assert not Entry.objects.exists()

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT outbox_add('k1', %s, '[1, 2]'::jsonb, %s)", [JOB, T0])
    assert entry().status == EntryStatus.PENDING


def test_adding_a_key_twice_records_and_publishes_one_job(broker: Broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert add("k1", args=(1,)) is True
        assert add("k1", args=(2,), now=T0 + SECOND) is False  # a retried effect: same key, nothing new
        with connection.cursor() as cursor:
            cursor.execute("SELECT outbox_add('k1', %s, '[3]'::jsonb, %s)", [JOB, T0])
            assert cursor.fetchone() == (False,)
    assert broker.keys() == ["k1"]
    assert list(Entry.objects.values_list("key", "args", "created_at")) == [("k1", [1], T0)]


def test_arguments_must_be_a_json_array():
    with pytest.raises(DataError, match="must be a JSON array"), connection.cursor() as cursor:
        cursor.execute("SELECT outbox_add('k1', %s, '{\"a\": 1}'::jsonb, %s)", [JOB, T0])


@pytest.mark.django_db(transaction=True)
def test_outbox_add_refuses_to_run_outside_the_effects_transaction(broker: Broker):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox_add(job=JOB, args=[1], key="k1", now=T0)
    assert not Entry.objects.exists()
    assert broker.tries == 0


# --- Publishing after commit: a broker that is down --------------------------------------------------------------


def test_a_failed_publication_leaves_the_row_pending_and_the_relay_delivers_it_after_the_delay(
    broker: Broker, django_capture_on_commit_callbacks, caplog
):
    broker.down = True
    with caplog.at_level(logging.WARNING, logger="outbox.services"), django_capture_on_commit_callbacks(execute=True):
        assert add("k1") is True  # no exception reaches the caller: the effect stands
    assert (broker.tries, broker.sent) == (1, [])
    assert "could not publish k1" in caplog.text
    assert entry().status == EntryStatus.PENDING

    broker.down = False
    assert outbox_relay(now=T0 + DELAY - SECOND).published == 0  # not due yet
    assert broker.tries == 1
    result = outbox_relay(now=T0 + DELAY)
    assert (result.published, result.broker_error) == (1, False)
    assert broker.sent == [(JOB, [7, 8], {"outbox_key": "k1"})]
    row = entry()
    assert (row.status, row.attempts, row.published_at, row.due_at) == (
        EntryStatus.PENDING, 1, T0 + DELAY, T0 + DELAY + DELAY,
    )  # fmt: skip


def test_after_a_failed_publication_the_process_leaves_publications_to_the_relay_for_a_few_seconds(
    broker: Broker, django_capture_on_commit_callbacks
):
    """Connecting to a dead broker takes kombu seconds; only the first caller of an outage pays them."""
    clock = [100.0]
    services.breaker.clock = lambda: clock[0]
    broker.down = True
    with django_capture_on_commit_callbacks(execute=True):
        add("k1")
    assert broker.tries == 1
    with django_capture_on_commit_callbacks(execute=True):
        add("k2")
    assert broker.tries == 1  # not tried: the breaker is open
    broker.down = False
    clock[0] += services.breaker.BREAK
    with django_capture_on_commit_callbacks(execute=True):
        add("k3")
    assert broker.keys() == ["k3"]
    # At their due time the relay publishes every row not done yet: k1 and k2, and k3 whose job has not run.
    assert outbox_relay(now=T0 + DELAY).published == 3
    assert sorted(broker.keys()) == ["k1", "k2", "k3", "k3"]


def test_a_broker_error_stops_the_relay_run_without_counting_an_attempt(broker: Broker):
    for key in ("k1", "k2", "k3"):
        add(key)
    broker.down = True
    result = outbox_relay(now=T0 + DELAY)
    assert (result.published, result.broker_error, broker.tries) == (0, True, 1)  # stopped at the first failure
    assert "OperationalError" in entry("k1").last_error
    assert set(Entry.objects.values_list("attempts", flat=True)) == {0}
    assert set(Entry.objects.values_list("due_at", flat=True)) == {T0 + DELAY}  # still due: the next run retries

    broker.down = False
    assert outbox_relay(now=T0 + DELAY + 5 * SECOND).published == 3
    assert broker.keys() == ["k1", "k2", "k3"]
    assert entry("k1").last_error == ""


# --- The job: effect and "done" in one transaction ---------------------------------------------------------------


def test_a_job_that_dies_before_marking_done_is_published_again_and_runs_once_in_effect(
    broker: Broker, django_capture_on_commit_callbacks
):
    paid: list[int] = []

    def pay() -> str:
        Group.objects.create(name=f"fx: bonus {len(paid)}")  # not idempotent by itself: the outbox row guards it
        paid.append(1)
        return "paid"

    def dies() -> str:
        Group.objects.create(name="fx: half done")
        raise WorkerDied

    with django_capture_on_commit_callbacks(execute=True):
        add("k1")
    assert broker.keys() == ["k1"]

    with pytest.raises(WorkerDied):  # the first delivery: the worker dies before its transaction commits
        outbox_run(key="k1", effect=dies, now=T0 + SECOND)
    assert effects() == []
    assert entry().status == EntryStatus.PENDING

    assert outbox_relay(now=T0 + DELAY - SECOND).published == 0
    assert outbox_relay(now=T0 + DELAY).published == 1
    assert broker.keys() == ["k1", "k1"]

    assert outbox_run(key="k1", effect=pay, now=T0 + DELAY + SECOND) == "paid"  # the re-published job
    row = entry()
    assert (row.status, row.done_at) == (EntryStatus.DONE, T0 + DELAY + SECOND)
    # The broker's own late redelivery of the first message (visibility timeout) finds the row done.
    assert outbox_run(key="k1", effect=pay, now=T0 + timedelta(hours=1)) is None
    assert (paid, effects()) == ([1], ["fx: bonus 0"])
    assert outbox_relay(now=T0 + timedelta(days=1)).published == 0  # done rows are never published again
    assert broker.keys() == ["k1", "k1"]


def test_a_job_without_a_key_just_runs_its_effect_and_a_pruned_key_runs_it_too():
    assert outbox_run(key=None, effect=lambda: 3) == 3
    assert outbox_run(key="never-recorded", effect=lambda: 4) == 4
    assert not Entry.objects.exists()


def test_a_late_job_marks_a_given_up_row_done():
    add("k1")
    Entry.objects.filter(key="k1").update(status=EntryStatus.FAILED)
    assert outbox_run(key="k1", effect=lambda: "ok", now=T0 + timedelta(hours=2)) == "ok"
    assert (entry().status, entry().done_at) == (EntryStatus.DONE, T0 + timedelta(hours=2))


# --- The relay: delay, backoff, bounded retries -------------------------------------------------------------------


def test_the_relay_never_publishes_a_row_twice_within_its_delay_and_backs_off(broker: Broker):
    add("k1")
    now = T0 + DELAY
    assert outbox_relay(now=now).published == 1
    gaps = []
    for _ in range(4):
        due = entry().due_at
        for probe in (now + SECOND, due - SECOND):  # runs every few seconds in between publish nothing
            assert outbox_relay(now=probe).published == 0
        assert outbox_relay(now=due).published == 1
        gaps.append(due - now)
        now = due
    assert gaps == [DELAY, 2 * DELAY, 4 * DELAY, 8 * DELAY]
    assert broker.keys() == ["k1"] * 5
    assert services.backoff(30) == services.BACKOFF_CAP


def test_the_relay_gives_up_after_max_attempts(broker: Broker, caplog):
    add("k1")
    published = 0
    with caplog.at_level(logging.ERROR, logger="outbox.services"):
        for _ in range(MAX_ATTEMPTS + 3):
            row = entry()
            if row.status != EntryStatus.PENDING:
                break
            result = outbox_relay(now=row.due_at)
            published += result.published
    row = entry()
    assert (published, row.attempts, row.status) == (MAX_ATTEMPTS, MAX_ATTEMPTS, EntryStatus.FAILED)
    assert "gave up on k1" in caplog.text
    assert outbox_relay(now=row.due_at + timedelta(days=1)).published == 0
    assert len(broker.sent) == MAX_ATTEMPTS


def test_the_relay_takes_the_oldest_due_rows_first_up_to_its_limit(broker: Broker):
    for i, key in enumerate(("k3", "k1", "k2")):
        add(key, now=T0 + i * SECOND)
    add("later", now=T0 + timedelta(minutes=5))
    assert outbox_relay(now=T0 + timedelta(minutes=1), limit=2).published == 2
    assert outbox_relay(now=T0 + timedelta(minutes=1), limit=2).published == 1
    assert broker.keys() == ["k3", "k1", "k2"]


@pytest.mark.django_db(transaction=True)
def test_the_relay_leaves_alone_a_row_whose_job_is_running(broker: Broker):
    """The running job holds its row's lock; the relay skips locked rows instead of publishing a second copy."""
    add("running")
    add("waiting")
    broker.sent.clear()  # the publications after commit (a transactional test commits for real)
    started, release = threading.Event(), threading.Event()
    outcome: list[object] = []

    def effect() -> bool:
        started.set()
        return release.wait(30)

    def job() -> None:
        try:
            outcome.append(outbox_run(key="running", effect=effect, now=T0 + SECOND))
        finally:
            connections.close_all()

    worker = threading.Thread(target=job)
    worker.start()
    try:
        assert started.wait(30)
        assert outbox_relay(now=T0 + DELAY).published == 1
        assert broker.keys() == ["waiting"]
    finally:
        release.set()
        worker.join(30)
    assert outcome == [True]
    assert entry("running").status == EntryStatus.DONE
    assert outbox_relay(now=T0 + DELAY + DELAY).published == 1  # "waiting" again (its job never ran)
    assert broker.keys() == ["waiting", "waiting"]


# --- Pruning -----------------------------------------------------------------------------------------------------


def test_done_rows_are_pruned_after_the_retention_period():
    for key in ("old", "recent", "pending", "failed"):
        add(key, now=T0 - RETENTION - timedelta(days=2))
    outbox_run(key="old", effect=lambda: None, now=T0 - RETENTION - SECOND)
    outbox_run(key="recent", effect=lambda: None, now=T0 - RETENTION + SECOND)
    Entry.objects.filter(key="failed").update(status=EntryStatus.FAILED)
    assert outbox_prune(now=T0) == 1
    assert sorted(Entry.objects.values_list("key", flat=True)) == ["failed", "pending", "recent"]
    assert outbox_prune(now=T0) == 0


# --- Jobs and schedule -------------------------------------------------------------------------------------------


def test_the_relay_and_prune_jobs_run_eagerly(broker: Broker):
    now = timezone.now()
    add("due", now=now - 2 * DELAY)
    add("done", now=now - RETENTION - timedelta(days=1))
    outbox_run(key="done", effect=lambda: None, now=now - RETENTION - timedelta(days=1))
    result = jobs.relay.apply()
    assert result.successful(), result.traceback
    assert result.get() == 1
    assert broker.keys() == ["due"]
    result = jobs.prune.apply()
    assert result.successful(), result.traceback
    assert result.get() == 1
    assert list(Entry.objects.values_list("key", flat=True)) == ["due"]


def test_beat_runs_the_relay_every_few_seconds_and_prunes_daily():
    entries = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert entries["outbox.relay"]["schedule"] <= 10.0
    # A relay message that waited longer than a few periods is dropped rather than run late and in a pile.
    assert entries["outbox.relay"]["options"]["expire_seconds"] <= 60
    assert "outbox.prune" in entries
    assert timedelta(seconds=20) >= DELAY  # with a 5 s relay: a dead job is published again within ~25 s


# --- Admin -------------------------------------------------------------------------------------------------------


def test_operators_see_the_outbox_read_only(operator):
    add("k1")
    _user, client = operator
    page = client.get("/admin/outbox/entry/?status=pending")
    assert page.status_code == 200
    assert b"k1" in page.content
    assert b"tests.bonus" in page.content
    assert client.get(f"/admin/outbox/entry/{entry().pk}/change/").status_code == 200
    assert client.post(f"/admin/outbox/entry/{entry().pk}/delete/").status_code == 403
