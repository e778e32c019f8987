"""The outbox with real Celery workers on the test database and the real broker (marked `celery`): a streak bonus
whose publication failed is paid once the relay runs, and a streak job that was running when its worker was killed
(`kill -9`, message unacknowledged: Redis would hand it back only after the one-hour visibility timeout) is published
again by the relay and paid by the restarted worker, once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection, connections, transaction
from kombu.exceptions import OperationalError

from config.celery import app as celery_app
from outbox.models import Entry, EntryStatus
from outbox.services import DELAY, outbox_relay
from points.models import Account, Transfer
from tasks import checkins
from tasks.checkins import streak_outbox_key
from tasks.models import StreakReward
from tests.tasks.conftest import local
from tests.test_celery import start_worker

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

DAY3 = local(2026, 3, 3, 9)  # the last check-in


@pytest.fixture
def workers() -> Iterator[Callable[[], Any]]:
    """start() → a new real worker process on the test database; all are stopped at the end."""
    running: list[Iterator[Any]] = []

    def start() -> Any:
        worker = start_worker(database=connection.settings_dict["NAME"])
        running.append(worker)
        return next(worker)

    yield start
    for worker in running:
        next(worker, None)  # resume the generator so it stops its worker


def broker_down(*args: Any, **kwargs: Any) -> None:
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def three_checkins_with_the_broker_down(campaign, member, monkeypatch) -> None:
    """Days 1-3 (the third pays the bonus); every publication after commit fails, so only the relay delivers."""
    with monkeypatch.context() as patched:
        patched.setattr(celery_app, "send_task", broker_down)
        for day in (1, 2, 3):
            checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, day, 9))
    assert Entry.objects.filter(status=EntryStatus.PENDING).count() == 1  # day 3 reaches the milestone


def wait_for(condition: Callable[[], bool], *, timeout: float = 60, step: Callable[[], None] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        if step is not None:
            step()
        time.sleep(0.2)


def lock_waiters() -> int:
    """Backends of the test database waiting for a lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def paid_once(member) -> None:
    assert list(StreakReward.objects.values_list("user_id", "day", "points")) == [(member.pk, 3, 10)]
    assert Transfer.objects.filter(kind="streak_bonus").count() == 1
    assert set(Entry.objects.values_list("status", flat=True)) == {EntryStatus.DONE}


def test_a_bonus_whose_publication_failed_is_paid_by_a_real_worker_after_the_relay(
    campaign, member, workers, monkeypatch
):
    three_checkins_with_the_broker_down(campaign, member, monkeypatch)
    workers()
    assert outbox_relay(now=DAY3 + DELAY).published == 1
    wait_for(lambda: not Entry.objects.filter(status=EntryStatus.PENDING).exists())
    paid_once(member)


def _forget_unacked(key: str) -> None:
    """Remove from the broker the message the killed worker held (it would come back after the visibility timeout,
    into some later test); only that message, the broker database may be shared."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for tag, payload in client.hgetall("unacked").items():
        if key.encode() in payload:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def test_a_job_running_when_its_worker_is_killed_is_published_again_and_paid_by_the_restarted_worker(
    campaign, member, workers, monkeypatch
):
    three_checkins_with_the_broker_down(campaign, member, monkeypatch)
    # Only day 3 reaches the milestone, so its job is the one recorded, published and running.
    running_key = streak_outbox_key(campaign.pk, member.pk, local(2026, 3, 3).date())
    wallet = Account.objects.get(user=member, asset__code="PTS")

    # Hold the member's wallet row: the day-3 job stops inside its transaction while posting the bonus, after it
    # locked its outbox row and before it commits — "running" when its worker is killed.
    holding, release = threading.Event(), threading.Event()

    def hold_wallet() -> None:
        try:
            with transaction.atomic():
                Account.objects.select_for_update().get(pk=wallet.pk)
                holding.set()
                release.wait(120)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_wallet)
    holder.start()
    try:
        assert holding.wait(30)
        first = workers()
        assert outbox_relay(now=DAY3 + DELAY).published == 1

        wait_for(lambda: lock_waiters() == 1)  # the day-3 job, waiting for the wallet
        assert not Entry.objects.filter(status=EntryStatus.DONE).exists()
        first.kill()  # SIGKILL: no clean shutdown, the message stays unacknowledged
        first.wait(30)
    finally:
        release.set()
        holder.join(30)

    try:
        # The dead worker's transaction is rolled back: nothing paid, the row still pending.
        wait_for(lambda: lock_waiters() == 0)
        assert Entry.objects.get(key=running_key).status == EntryStatus.PENDING
        assert not StreakReward.objects.exists()

        workers()  # the restart: the message the dead worker held is lost to it

        def relay_when_due() -> None:
            row = Entry.objects.get(key=running_key)
            if row.status == EntryStatus.PENDING and row.attempts < 2:
                outbox_relay(now=row.due_at)  # the beat-driven relay, at the row's due time (once)

        wait_for(lambda: Entry.objects.get(key=running_key).status == EntryStatus.DONE, step=relay_when_due)
        paid_once(member)
        assert Entry.objects.get(key=running_key).attempts == 2  # delivered by the relay's second publication
    finally:
        _forget_unacked(running_key)
