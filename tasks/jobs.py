from celery import shared_task

from outbox.services import outbox_run
from tasks import streaks


@shared_task(name="tasks.streak_rewards_grant", acks_late=True)
def streak_rewards_grant(campaign_id: int, user_id: int, outbox_key: str | None = None) -> int:
    """Published through the outbox after a check-in commits (ADR 0008): pays the milestones and marks its outbox
    row done in one transaction, so a worker that dies mid-job leaves the row for the relay. Safe to run twice
    (rewards are idempotent; a done row is skipped). Returns how many rewards this run paid."""
    paid = outbox_run(
        key=outbox_key, effect=lambda: streaks.streak_rewards_grant(campaign_id=campaign_id, user_id=user_id)
    )
    return paid or 0


@shared_task(name="tasks.streak_rewards_sweep")
def streak_rewards_sweep() -> int:
    """Every few minutes, a safety net behind the outbox: pays anything a lost or given-up job missed."""
    return streaks.streak_rewards_sweep()
