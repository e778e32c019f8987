"""Shipment jobs (Celery). Safe to run twice or at once: every step is a conditional update."""

from celery import shared_task
from django.utils import timezone

from shipments import services


@shared_task(name="shipments.expire")
def expire() -> int:
    """Shipments without an address by their claim deadline expire; each owner reacts through its registered
    hook (a wheel prize returns to stock)."""
    return len(services.shipments_expire(now=timezone.now()))
