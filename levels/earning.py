"""The levels' receiver of campaigns.earning: right after an earning commits, the member is queued for evaluation.

The member's request does not talk to Redis: `on_member_earned` adds their id to a pending set of this process (under a
lock, a few microseconds), and the pending ids go to the Redis set `levels:due` in ONE `SADD levels:due id1 id2 ...` at
most once per FLUSH_SECONDS (settings.LEVELS_DUE_FLUSH_SECONDS, 1 s) per process. An earning that finds the last send
FLUSH_SECONDS old or older sends at once, on its own thread (one round trip for everything pending); otherwise a daemon
timer (at most one per process) sends when due, so an id waits at most FLUSH_SECONDS even if no other earning comes.
Under load a process makes one Redis round trip a second, mostly on the timer's thread, instead of one per earning on
the member's request (spin, check-in, order: ~0.15-0.2 ms of CPU each, docs/performance.md). A test setting of 0 sends
every earning at once (config/settings/test.py). The job `levels.drain` (beat, every 5 s) pops the set and evaluates
each member, so a promotion lands seconds after the earning; the sets also dedupe a member who earns many times in
between.

Redis holds nothing that cannot be rebuilt, and neither does the pending set: the minute sweep (levels.sweep: every
member credited since its transfer-id watermark) evaluates any member the queue lost — a batch whose SADD failed
(dropped, not retried), ids pending when a process is killed (a clean exit sends them) or ids past PENDING_CAP (dropped
so that memory stays bounded), members popped by a worker that dies. A Redis error is logged once and pauses the queue
for DOWN_PAUSE seconds in this process (short socket timeouts; earnings during the pause are not queued), so an outage
costs at most one timeout per process per pause, on whichever thread sends.

Forks (gunicorn workers, Celery's prefork pool): the lock, the pending set and the timer are per process; a child starts
with its own fresh ones (os.register_at_fork), never with a lock a parent's thread held at the fork or a timer object
whose thread does not exist in the child."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings

from levels import kinds

logger = logging.getLogger(__name__)

DUE_KEY = "levels:due"
DOWN_PAUSE = 5.0  # seconds this process leaves the queue alone after a Redis error (the sweep heals)
FLUSH_SECONDS = 1.0  # default of settings.LEVELS_DUE_FLUSH_SECONDS: at most one SADD per this many seconds
PENDING_CAP = 100_000  # ids pending in one process; past it, new ids are dropped (the sweep evaluates them)
TIMER_MIN_DELAY = 0.005  # a timer that fires a hair early waits at least this long again


def flush_seconds() -> float:
    return float(getattr(settings, "LEVELS_DUE_FLUSH_SECONDS", FLUSH_SECONDS))


class _Queue:
    def __init__(self) -> None:
        self.lock = threading.Lock()  # the client
        self.client: redis.Redis | None = None
        self.url = ""
        self.down_until = 0.0
        self.clock: Callable[[], float] = time.monotonic  # tests move it
        self.timer_class: Callable[..., Any] = threading.Timer  # tests put a timer they fire themselves
        self._fresh()

    def _fresh(self) -> None:
        """This process's batching state, new (at start-up, and in a child right after a fork)."""
        self.pending_lock = threading.Lock()
        self.pending: set[int] = set()
        self.last_flush = float("-inf")  # clock() of the last send
        self.timer: Any = None  # the armed timer, if any
        self.dropped = 0  # ids refused past PENDING_CAP since the last send

    def get(self) -> redis.Redis | None:
        """The queue's client, or None while Redis is considered down."""
        if self.clock() < self.down_until:
            return None
        with self.lock:
            if self.client is None or self.url != settings.REDIS_URL:
                self.url = settings.REDIS_URL
                self.client = redis.Redis.from_url(self.url, socket_connect_timeout=0.3, socket_timeout=0.3)
            return self.client

    def failed(self, exc: Exception) -> None:
        first = self.clock() >= self.down_until
        self.down_until = self.clock() + DOWN_PAUSE
        if first:
            logger.warning("levels: the evaluation queue is unavailable (%r); the sweep will evaluate members", exc)

    def add(self, user_id: int) -> None:
        """Queue `user_id`: send now if the last send is FLUSH_SECONDS old, else make sure a timer sends when due."""
        now = self.clock()
        if now < self.down_until:
            return  # paused after a Redis error: the sweep evaluates this member
        interval = flush_seconds()
        with self.pending_lock:
            if len(self.pending) < PENDING_CAP:
                self.pending.add(user_id)
            elif user_id not in self.pending:
                self.dropped += 1  # memory stays bounded; the sweep evaluates this member
                if self.dropped == 1:
                    logger.warning(
                        "levels: %s members pending in this process; the sweep evaluates the rest", PENDING_CAP
                    )
            waited = now - self.last_flush
            if waited >= interval:
                batch = self._take(now)
            else:
                batch = []
                self._arm(interval - waited)
        self._send(batch)

    def flush(self) -> None:
        """Send everything pending now, on this thread (tests; the exit of a process)."""
        with self.pending_lock:
            batch = self._take(self.clock())
        self._send(batch)

    def _take(self, now: float) -> list[int]:
        """Empty the pending set (the caller holds pending_lock) and mark the send."""
        batch = list(self.pending)
        self.pending = set()
        self.last_flush = now
        self.dropped = 0
        return batch

    def _send(self, batch: list[int]) -> None:
        if not batch:
            return
        client = self.get()
        if client is None:
            return  # down: the batch is dropped, the sweep evaluates these members within a minute
        try:
            client.sadd(DUE_KEY, *batch)
        except redis.RedisError as exc:
            self.failed(exc)  # the batch is dropped (the sweep heals); the queue pauses

    def _arm(self, delay: float) -> None:
        """Start the timer unless one is armed (the caller holds pending_lock)."""
        if self.timer is not None:
            return
        timer = self.timer_class(max(delay, TIMER_MIN_DELAY), self._on_timer)
        timer.daemon = True
        try:
            timer.start()
        except RuntimeError:  # no thread to be had: the next earning tries again, the sweep heals
            logger.warning("levels: the evaluation queue's timer did not start", exc_info=True)
            return
        self.timer = timer

    def _on_timer(self) -> None:
        """The timer's function: send what is pending if due, else wait for the rest of the interval."""
        try:
            with self.pending_lock:
                self.timer = None
                if not self.pending:
                    return  # an earning sent them meanwhile
                now = self.clock()
                waited = now - self.last_flush
                interval = flush_seconds()
                if waited < interval:
                    self._arm(interval - waited)
                    return
                batch = self._take(now)
            self._send(batch)
        except Exception:  # a timer thread has nobody to report to
            logger.exception("levels: the evaluation queue's timer failed")

    def reset(self) -> None:
        """Tests: forget the pause, the pending ids and the timer; the real clock and timer again."""
        with self.pending_lock:
            if self.timer is not None:
                self.timer.cancel()
        self.down_until = 0.0
        self.clock = time.monotonic
        self.timer_class = threading.Timer
        self._fresh()

    def after_fork(self) -> None:
        """In a forked child: fresh locks, nothing pending (the parent sends its own), no timer."""
        self.lock = threading.Lock()
        self.client = None
        self._fresh()


queue = _Queue()
os.register_at_fork(after_in_child=queue.after_fork)
atexit.register(queue.flush)  # a process that exits sends what it holds (if Redis answers)


def on_member_earned(user_id: int, kind: str) -> None:
    if kind == kinds.LEVEL_REWARD:
        return  # the evaluation that paid it has already counted it
    queue.add(user_id)


def flush() -> None:
    """Send this process's pending ids at once (tests, instead of waiting for the timer)."""
    queue.flush()


def due_take(*, limit: int = 500) -> list[int]:
    """Pop up to `limit` queued members ([] while Redis is down: the sweep covers them)."""
    client = queue.get()
    if client is None:
        return []
    try:
        popped: list[bytes] = client.spop(DUE_KEY, limit) or []  # type: ignore[assignment]
    except redis.RedisError as exc:
        queue.failed(exc)
        return []
    return sorted(int(raw) for raw in popped)
