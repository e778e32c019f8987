"""The levels' receiver of campaigns.earning: right after an earning commits, evaluate the member — cheaply, since it
runs on hot paths (check-ins, spins, orders): a Redis `SET NX` dedupe key per member (DEDUPE_SECONDS), then one
Celery publish of `levels.member_evaluate`. Any cache or broker error is logged and swallowed; the minute sweep
(levels.sweep) evaluates every member credited since its watermark, so nothing is missed for long."""

from __future__ import annotations

import logging

from django.core.cache import cache

from levels import kinds
from levels.jobs import member_evaluate

logger = logging.getLogger(__name__)

DEDUPE_SECONDS = 10


def dedupe_key(user_id: int) -> str:
    return f"levels:evaluate:{user_id}"


def on_member_earned(user_id: int, kind: str) -> None:
    if kind == kinds.LEVEL_REWARD:
        return  # the evaluation that paid it has already counted it
    try:
        if not cache.add(dedupe_key(user_id), 1, timeout=DEDUPE_SECONDS):
            return  # an evaluation of this member was published moments ago
        member_evaluate.delay(user_id)
    except Exception:
        logger.warning(
            "level evaluation of member %s not published; the sweep will evaluate them", user_id, exc_info=True
        )
