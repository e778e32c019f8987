from celery import shared_task

from accounts.services import idempotency_records_prune


@shared_task(name="accounts.ping")
def ping() -> str:
    """Liveness probe: proves a real worker picks up and runs jobs."""
    return "pong"


@shared_task(name="accounts.idempotency_prune")
def idempotency_prune() -> int:
    return idempotency_records_prune()
