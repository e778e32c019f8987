"""The per-process batching of `levels:due` (levels/earning.py): earnings add to a pending set of the process and
at most one `SADD` a second carries them all — right away when the last send is a second old, else from a timer.
A Redis error drops the batch and pauses the queue; the pending set is capped; a forked child starts afresh.

The interval is 1 s here (config/settings/test.py sends at once for every other test), the clock is injected and
the timer is one the tests fire themselves, except in the one test of the real timer."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from campaigns.builders import member_fund
from levels import earning
from levels.models import MemberLevel
from levels.services import levels_drain

T0 = 1000.0  # the injected clock's start


class FakeTimer:
    """A threading.Timer that never runs by itself: the test calls `fire()`."""

    def __init__(self, made: list[FakeTimer], interval: float, function: Callable[[], None]) -> None:
        self.interval, self.function = interval, function
        self.daemon = False
        self.started = self.cancelled = False
        made.append(self)

    def start(self) -> None:
        self.started = True

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        assert self.started
        assert not self.cancelled
        self.function()


@dataclass
class Queue:
    """The queue under test: its clock, the timers it made and the Redis commands its client sent."""

    now: float = T0
    timers: list[FakeTimer] = field(default_factory=list)
    commands: list[tuple[Any, ...]] = field(default_factory=list)
    client: redis.Redis = field(default_factory=lambda: redis.Redis.from_url(settings.REDIS_URL))

    def due(self) -> set[int]:
        return {int(raw) for raw in self.client.smembers(earning.DUE_KEY)}

    def sadds(self) -> list[list[int]]:
        """The ids carried by each SADD sent so far (and no other command was sent)."""
        assert all(command[0] == "SADD" for command in self.commands), self.commands
        return [sorted(int(arg) for arg in command[2:]) for command in self.commands]

    def armed(self) -> FakeTimer | None:
        return earning.queue.timer


@pytest.fixture
def q(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Queue]:
    settings.LEVELS_DUE_FLUSH_SECONDS = 1.0
    earning.queue.reset()
    state = Queue()
    state.client.delete(earning.DUE_KEY)
    earning.queue.clock = lambda: state.now
    earning.queue.timer_class = lambda interval, function: FakeTimer(state.timers, interval, function)
    client = earning.queue.get()
    assert client is not None
    real = client.execute_command

    def counted(*args: Any, **options: Any) -> Any:
        state.commands.append(args)
        return real(*args, **options)

    monkeypatch.setattr(client, "execute_command", counted)
    yield state
    monkeypatch.undo()
    earning.queue.reset()
    state.client.delete(earning.DUE_KEY)


def test_fifty_earnings_within_the_second_make_one_sadd_when_due(q: Queue) -> None:
    earning.on_member_earned(1, "checkin")  # the first in a while: sent at once
    assert q.sadds() == [[1]]
    assert q.armed() is None
    q.commands.clear()
    ids = list(range(100, 150))
    for step, user_id in enumerate(ids + ids[:20]):  # 70 earnings of 50 members within the second
        q.now = T0 + 0.01 + step * 0.0125
        earning.on_member_earned(user_id, "spin")
    assert q.commands == []  # no Redis command until due
    assert len(q.timers) == 1  # one timer for all of them, due a second after the last send
    timer = q.timers[0]
    assert timer.daemon
    assert timer.interval == pytest.approx(1.0 - 0.01)
    q.now = T0 + 1.0
    timer.fire()
    assert q.sadds() == [ids]  # exactly one SADD carrying the 50 distinct ids
    assert q.due() == {1, *ids}
    assert q.armed() is None
    # after the interval, the next earning is sent at once, on its own thread; no timer
    q.commands.clear()
    q.now = T0 + 2.5
    earning.on_member_earned(7, "order")
    assert q.sadds() == [[7]]
    assert q.armed() is None
    assert len(q.timers) == 1


def test_an_earning_past_the_interval_sends_everything_pending(q: Queue) -> None:
    earning.on_member_earned(1, "checkin")
    q.now = T0 + 0.3
    earning.on_member_earned(2, "checkin")
    q.now = T0 + 0.6
    earning.on_member_earned(3, "checkin")
    assert q.sadds() == [[1]]
    timer = q.armed()
    assert timer is not None
    q.now = T0 + 1.0
    earning.on_member_earned(4, "checkin")  # due: one round trip for everything pending
    assert q.sadds() == [[1], [2, 3, 4]]
    timer.fire()  # the timer armed meanwhile finds nothing pending: no command, no new timer
    assert q.sadds() == [[1], [2, 3, 4]]
    assert q.armed() is None
    assert len(q.timers) == 1


def test_the_timer_sends_without_further_earnings(q: Queue) -> None:
    earning.on_member_earned(1, "checkin")
    q.now = T0 + 0.4
    earning.on_member_earned(2, "checkin")
    timer = q.timers[0]
    assert timer.interval == pytest.approx(0.6)
    q.now = T0 + 0.9  # fired early (this clock is not the timer's): it waits for the rest, sends nothing
    timer.fire()
    assert q.sadds() == [[1]]
    assert len(q.timers) == 2
    assert q.timers[1].interval == pytest.approx(0.1)
    q.now = T0 + 1.0
    q.timers[1].fire()
    assert q.sadds() == [[1], [2]]
    assert q.due() == {1, 2}
    assert q.armed() is None


def test_the_public_flush_sends_at_once(q: Queue) -> None:
    earning.on_member_earned(1, "checkin")
    q.now = T0 + 0.1
    earning.on_member_earned(2, "checkin")
    earning.on_member_earned(3, "level_reward")  # the levels' own reward: never queued
    earning.flush()
    assert q.sadds() == [[1], [2]]
    earning.flush()  # nothing pending: no command
    assert q.sadds() == [[1], [2]]


def test_the_real_timer_sends_within_the_interval(settings: Any) -> None:
    """The one test on the real clock and timer: a pending id reaches Redis by itself."""
    settings.LEVELS_DUE_FLUSH_SECONDS = 0.3
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(earning.DUE_KEY)
    earning.queue.reset()
    try:
        earning.on_member_earned(1, "checkin")  # sent at once
        earning.on_member_earned(2, "checkin")  # pending: the timer sends it
        timer = earning.queue.timer
        assert timer is not None
        assert timer.daemon
        assert client.smembers(earning.DUE_KEY) == {b"1"}
        deadline = time.monotonic() + 1.5
        while client.scard(earning.DUE_KEY) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client.smembers(earning.DUE_KEY) == {b"1", b"2"}
        timer.join(1.0)
        assert earning.queue.timer is None
    finally:
        earning.queue.reset()
        client.delete(earning.DUE_KEY)


def test_redis_down_drops_the_batch_warns_once_and_pauses(
    q: Queue, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    earning.on_member_earned(1, "checkin")
    q.now = T0 + 0.5
    earning.on_member_earned(2, "checkin")
    earning.on_member_earned(3, "checkin")
    good = earning.queue.client
    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(earning.queue, "client", broken)
    q.now = T0 + 1.0
    with caplog.at_level(logging.WARNING, logger="levels.earning"):
        q.timers[0].fire()  # refused connection: the batch is dropped, nothing raised
        assert earning.queue.pending == set()
        assert earning.queue.get() is None  # paused
        for step in range(5):  # earnings during the pause: no exception, nothing queued, no timer
            q.now = T0 + 1.5 + step
            earning.on_member_earned(10 + step, "spin")
        assert earning.queue.pending == set()
        assert earning.queue.timer is None
    warnings = [r for r in caplog.records if r.name == "levels.earning" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "unavailable" in warnings[0].getMessage()
    assert q.due() == {1}  # 2 and 3 are the sweep's (levels.sweep)
    # the pause over, with Redis back: the next earning is sent at once
    monkeypatch.setattr(earning.queue, "client", good)
    q.now = T0 + 1.0 + earning.DOWN_PAUSE + 0.1
    earning.on_member_earned(20, "spin")
    assert q.due() == {1, 20}


def test_an_earning_that_sends_into_a_dead_redis_is_not_failed(q: Queue, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(earning.queue, "client", broken)
    earning.on_member_earned(1, "checkin")  # due at once: the send fails on this thread, swallowed
    assert earning.queue.get() is None
    assert earning.queue.pending == set()


def test_the_pending_set_is_capped(q: Queue, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(earning, "PENDING_CAP", 5)
    earning.on_member_earned(1, "checkin")
    with caplog.at_level(logging.WARNING, logger="levels.earning"):
        for user_id in range(100, 110):
            q.now = T0 + 0.1
            earning.on_member_earned(user_id, "spin")
        earning.on_member_earned(100, "spin")  # already pending: not a drop
        assert len(earning.queue.pending) == 5
        assert earning.queue.dropped == 5
    assert len([r for r in caplog.records if "pending" in r.getMessage()]) == 1
    q.now = T0 + 1.0
    q.timers[0].fire()
    assert q.sadds() == [[1], [100, 101, 102, 103, 104]]
    assert earning.queue.dropped == 0
    q.now = T0 + 1.2
    earning.on_member_earned(105, "spin")  # room again
    assert earning.queue.pending == {105}


def test_a_forked_child_starts_with_a_fresh_queue(q: Queue) -> None:
    """gunicorn forks its workers: the child must not inherit a held lock, the parent's ids or its timer."""
    earning.on_member_earned(1, "checkin")
    q.now = T0 + 0.1
    earning.on_member_earned(2, "checkin")
    assert earning.queue.timer is not None
    with earning.queue.pending_lock, earning.queue.lock:  # held by the parent at the fork
        pid = os.fork()
        if pid == 0:  # the child: check and leave at once, whatever happens
            code = 1
            try:
                fresh = (
                    earning.queue.pending == set()
                    and earning.queue.timer is None
                    and earning.queue.client is None
                    and earning.queue.pending_lock.acquire(timeout=1)
                    and earning.queue.lock.acquire(timeout=1)
                )
                code = 0 if fresh else 2
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert earning.queue.pending == {2}  # the parent keeps its own


@pytest.mark.django_db
def test_earnings_reach_the_drain_once_flushed(  # noqa: PLR0917 — fixtures
    q: Queue, member, make_user, campaign, make_ladder, django_capture_on_commit_callbacks
) -> None:
    """Through the real hook: a member earning within the second waits in the process until the send."""
    make_ladder()
    other = make_user()
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        member_fund(campaign=campaign, user_id=member.pk, points=10, now=now, key="earn:1")
    assert q.due() == {member.pk}  # the first in a while: at once
    q.now = T0 + 0.2
    with django_capture_on_commit_callbacks(execute=True):
        member_fund(campaign=campaign, user_id=other.pk, points=1000, now=now, key="earn:2")
    assert q.due() == {member.pk}
    assert levels_drain(now=now) == 1
    assert not MemberLevel.objects.filter(user=other, level__rank=1).exists()
    earning.flush()
    assert levels_drain(now=now) == 1
    assert MemberLevel.objects.get(user=other).level.rank == 1
