"""Prize wheel jobs (Celery). Safe to run twice: every step is a conditional update."""

from celery import shared_task

from lottery import services


@shared_task(name="lottery.fulfilments_expire")
def fulfilments_expire() -> int:
    """Physical prizes nobody gave an address for by their deadline expire; the unit returns to stock."""
    return services.fulfilments_expire()
