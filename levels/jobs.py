"""Celery jobs of member levels (autodiscovered as `<app>.jobs`): one member's evaluation, the 5-second drain of
members queued right after an earning commits (levels/earning.py), the minute sweep of members credited since the
watermark, and period ends."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from levels import services


@shared_task(name="levels.member_evaluate", acks_late=True)
def member_evaluate(user_id: int) -> int | None:
    """Evaluate one member now (idempotent: a second delivery promotes and pays nothing more). Returns their rank."""
    evaluation = services.member_level_evaluate(user_id=user_id, now=timezone.now())
    return evaluation.member.level.rank if evaluation is not None else None


@shared_task(name="levels.drain")
def drain() -> int:
    """Every 5 seconds: evaluate the members queued right after their earnings committed. Returns the members."""
    return services.levels_drain(now=timezone.now())


@shared_task(name="levels.sweep")
def sweep() -> int:
    """Every minute: evaluate members credited since the stored watermark (heals lost hooks). Returns the members."""
    return services.levels_sweep(now=timezone.now())


@shared_task(name="levels.period_close")
def period_close() -> int:
    """Every 5 minutes: on a re-evaluating ladder, members last evaluated in an ended period get the level that
    period's figures justify (idempotent). Returns the members evaluated."""
    return services.levels_period_close(now=timezone.now())
