"""The levels' receiver of campaigns.earning: right after an earning commits, evaluate the member — cheaply, since it
runs on hot paths (check-ins, spins, orders): a Redis `SET NX` dedupe key per member (DEDUPE_SECONDS), then one
Celery publish of `levels.member_evaluate` without retries, skipped while the outbox's process-local breaker is
open (a publication failed in the last seconds). Any cache or broker error is logged, trips the breaker and is
swallowed; the minute sweep
(levels.sweep) evaluates every member credited since its watermark, so nothing is missed for long."""

from __future__ import annotations

import logging

from django.core.cache import cache

from config.celery import app as celery_app
from levels import kinds
from outbox.services import breaker

logger = logging.getLogger(__name__)

DEDUPE_SECONDS = 10


def dedupe_key(user_id: int) -> str:
    return f"levels:evaluate:{user_id}"


def on_member_earned(user_id: int, kind: str) -> None:
    if kind == kinds.LEVEL_REWARD:
        return  # the evaluation that paid it has already counted it
    if breaker.is_open():
        return  # the broker failed moments ago in this process (outbox.services): don't make a member wait on it
    try:
        if not cache.add(dedupe_key(user_id), 1, timeout=DEDUPE_SECONDS):
            return  # an evaluation of this member was published moments ago
        # No publish retry: a broker that is down would hold the member's request for seconds.
        celery_app.send_task("levels.member_evaluate", args=[user_id], ignore_result=True, retry=False)
    except Exception:
        breaker.trip()
        logger.warning(
            "level evaluation of member %s not published; the sweep will evaluate them", user_id, exc_info=True
        )
