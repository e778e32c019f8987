"""The Idempotency-Key store: every write of `accounts.IdempotencyRecord` made for `config.api.idempotent`.

config/api.py defines the protocol (`IdempotencyStore`) and finds this module through the setting
`IDEMPOTENCY_STORE`, so the API plumbing in `config` imports no app and the arrow points one way
(accounts → config). A record is unique per (user, key); see docs/architecture.md, "Retries and idempotency"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import IdempotencyRecord
from config.api import IdempotencyClaim, IdempotencyOutcome


def idempotency_claim(
    *, user_id: int, key: str, method: str, path: str, digest: str, now: datetime, stale_after: timedelta
) -> IdempotencyClaim:
    """Claim `key` for this request: a new record (claimed), the stored response of the same request (replay),
    a different request under the same key (reused), or a first attempt still running (in flight) — unless it
    has been running longer than `stale_after` (a crashed worker), in which case this request takes it over."""
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user_id=user_id, key=key, method=method, path=path[:500], request_digest=digest
            )
    except IntegrityError:
        record = IdempotencyRecord.objects.get(user_id=user_id, key=key)
        if record.request_digest != digest:
            return IdempotencyClaim(IdempotencyOutcome.REUSED)
        if record.state == IdempotencyRecord.State.DONE:
            return IdempotencyClaim(IdempotencyOutcome.REPLAY, status=record.response_status, body=record.response_body)
        taken = IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT, created_at__lt=now - stale_after
        ).update(created_at=now)
        if not taken:
            return IdempotencyClaim(IdempotencyOutcome.IN_FLIGHT)
    return IdempotencyClaim(IdempotencyOutcome.CLAIMED, record_id=record.pk)


def idempotency_finish(*, record_id: int, status: int, body: Any) -> None:
    """Store the response a claimed request produced, for its retries."""
    IdempotencyRecord.objects.filter(pk=record_id).update(
        state=IdempotencyRecord.State.DONE, response_status=status, response_body=body
    )


def idempotency_release(*, record_id: int) -> None:
    """Forget a claim whose request failed on our side (5xx), so that a retry runs again."""
    IdempotencyRecord.objects.filter(pk=record_id).delete()
