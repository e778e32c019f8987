"""Outbox jobs (Celery): the relay, every few seconds, and the nightly prune. Both are safe to run twice or at once."""

from celery import shared_task
from django.utils import timezone

from outbox import services


@shared_task(name="outbox.relay")
def relay() -> int:
    """Publish again what is still pending past its due time (a failed publication after commit, a job whose
    worker died before it committed). Returns how many jobs it published."""
    return services.outbox_relay(now=timezone.now()).published


@shared_task(name="outbox.prune")
def prune() -> int:
    """Delete outbox rows done more than a week ago."""
    return services.outbox_prune(now=timezone.now())
