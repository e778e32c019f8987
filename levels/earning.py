"""The levels' receiver of campaigns.earning: right after an earning commits, the member is queued for evaluation —
one Redis `SADD` of their id to the set `levels:due` (~0.06 ms, no pickling, no Celery publish on the member's
request). The job `levels.drain` (beat, every 5 s) pops the set and evaluates each member, so a promotion lands
seconds after the earning; the set also dedupes a member who earns many times in between.

Redis holds nothing that cannot be rebuilt: a member queued while Redis is down, or popped by a worker that dies, is
evaluated by the minute sweep (levels.sweep: every member credited since its transfer-id watermark). A Redis error
is logged once and pauses the queue for DOWN_PAUSE seconds in this process (short socket timeouts), so an outage
costs a member's request at most one timeout, not one per earning."""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.conf import settings

from levels import kinds

logger = logging.getLogger(__name__)

DUE_KEY = "levels:due"
DOWN_PAUSE = 5.0  # seconds this process leaves the queue alone after a Redis error (the sweep heals)


class _Queue:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.client: redis.Redis | None = None
        self.url = ""
        self.down_until = 0.0
        self.clock = time.monotonic  # tests move it

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

    def reset(self) -> None:
        self.down_until = 0.0
        self.clock = time.monotonic


queue = _Queue()


def on_member_earned(user_id: int, kind: str) -> None:
    if kind == kinds.LEVEL_REWARD:
        return  # the evaluation that paid it has already counted it
    client = queue.get()
    if client is None:
        return
    try:
        client.sadd(DUE_KEY, user_id)
    except redis.RedisError as exc:
        queue.failed(exc)


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
