from celery import shared_task

from tasks import streaks


@shared_task(name="tasks.streak_rewards_grant", acks_late=True)
def streak_rewards_grant(campaign_id: int, user_id: int) -> int:
    """Queued after a check-in commits; safe to run twice (rewards are idempotent)."""
    return streaks.streak_rewards_grant(campaign_id=campaign_id, user_id=user_id)


@shared_task(name="tasks.streak_rewards_sweep")
def streak_rewards_sweep() -> int:
    """Every few minutes: pays anything a lost after-commit job missed."""
    return streaks.streak_rewards_sweep()
