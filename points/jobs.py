"""Ledger jobs. Each is idempotent and safe to run twice at once; the beat schedule is in settings."""

from celery import shared_task

from points import services


@shared_task(name="points.expire_lots")
def expire_lots() -> int:
    """Move the remainder of expired lots to their campaigns' expiry accounts (hourly)."""
    return services.lots_expire()


@shared_task(name="points.rollup")
def rollup() -> int:
    """Fold pending system-account deltas into balances (every minute)."""
    return services.ledger_rollup()


@shared_task(name="points.reconcile")
def reconcile() -> bool:
    """Nightly audit: drift is stored on a ReconciliationRun, logged as an error, and never fixed silently."""
    services.ledger_rollup()
    return services.ledger_reconcile().ok
