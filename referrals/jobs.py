"""Celery jobs of invites (autodiscovered as `<app>.jobs`). The leaderboard's: the per-member sync the qualification
and review SQL record in the outbox, a rebuild, the hourly snapshots and the final awards (referrals/leaderboard.py).
The sweeps of referrals.services: invites qualified by a later sign-in, and idle invitees flagged for review.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from outbox.services import outbox_run
from referrals import leaderboard, services


@shared_task(name="referrals.leaderboard_sync", acks_late=True)
def leaderboard_sync(campaign_id: int, user_id: int, outbox_key: str | None = None) -> int:
    """Published through the outbox after an invite is qualified or reversed (ADR 0008): recompute the inviter's
    score from Postgres into the Redis set, marking the outbox row done in the same transaction. Idempotent; a Redis
    error fails the job and leaves the row for the relay. Returns the member's qualified invites."""
    invites = outbox_run(
        key=outbox_key,
        effect=lambda: leaderboard.leaderboard_member_sync(campaign_id=campaign_id, user_id=user_id),
    )
    return invites or 0


@shared_task(name="referrals.leaderboard_rebuild")
def leaderboard_rebuild(campaign_id: int) -> int:
    """Rebuild one campaign's Redis set from Postgres (also `manage.py leaderboard_rebuild`). Returns the members."""
    return leaderboard.leaderboard_rebuild(campaign_id=campaign_id)


@shared_task(name="referrals.leaderboard_snapshot")
def leaderboard_snapshot() -> int:
    """Hourly: every running campaign's ranking into a LeaderboardSnapshot (once per hour), its set rebuilt."""
    return leaderboard.leaderboard_snapshots_take()


@shared_task(name="referrals.final_awards")
def final_awards() -> int:
    """Every 10 minutes: freeze the final ranking and award the top N of campaigns whose official phase is over,
    once per campaign. Returns the awards made."""
    return leaderboard.leaderboard_finalize_due()


@shared_task(name="referrals.later_login_sweep")
def later_login_sweep() -> int:
    """Every 5 minutes: qualify invites whose qualifying action is signing in on a later day and whose invitee has
    signed in since (referrals.services.invites_later_login; each decision under the invite's row lock, so a
    second run or a parallel one pays nothing twice). Returns the invites decided."""
    return services.invites_later_login(now=timezone.now())


@shared_task(name="referrals.idle_sweep")
def idle_sweep() -> int:
    """Hourly: flag qualified invites whose invitee never acted again within the program's idle days (reason
    'idle'; back to review while the rewards are still pending). Returns the invites flagged."""
    return services.invites_idle_flag(now=timezone.now())
