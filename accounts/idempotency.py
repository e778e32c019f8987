"""The Idempotency-Key store: every write of `accounts.IdempotencyRecord` made for `config.api.idempotent`.

config/api.py defines the protocol (`IdempotencyStore`) and finds this module through the setting
`IDEMPOTENCY_STORE`, so the API plumbing in `config` imports no app and the arrow points one way
(accounts → config). Both calls run inside the request's business transaction. A record is unique per (user,
key); see docs/architecture.md, "Retries and idempotency"."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from accounts.models import IdempotencyRecord
from config.api import IdempotencyClaim, IdempotencyOutcome

_TABLE = IdempotencyRecord._meta.db_table
DONE = IdempotencyRecord.State.DONE.value
IN_FLIGHT = IdempotencyRecord.State.IN_FLIGHT.value


def idempotency_claim(
    *, user_id: int, key: str, method: str, path: str, digest: str, now: datetime, stale_after: timedelta
) -> IdempotencyClaim:
    """Claim `key` for this request inside the caller's transaction: one INSERT ... ON CONFLICT DO NOTHING. If
    another transaction holds the same key uncommitted, Postgres makes this one wait for it: then this one sees its
    committed record (replay, or reused for a different request), or claims the key if the other rolled back.
    Records are committed done (config.api.idempotent stores the response in the same transaction), so in flight
    is only seen for a claim left by an older release, taken over after `stale_after`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} (user_id, key, method, path, request_digest, state, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            [user_id, key, method, path[:500], digest, IN_FLIGHT, now],
        )
        row = cursor.fetchone()
        if row is not None:
            return IdempotencyClaim(IdempotencyOutcome.CLAIMED, record_id=row[0])
        cursor.execute(
            f"SELECT id, request_digest, state, response_status, response_body::text FROM {_TABLE} "  # noqa: S608
            "WHERE user_id = %s AND key = %s",
            [user_id, key],
        )
        record_id, stored_digest, state, status, body = cursor.fetchone()
        if stored_digest != digest:
            return IdempotencyClaim(IdempotencyOutcome.REUSED)
        if state == DONE:
            return IdempotencyClaim(IdempotencyOutcome.REPLAY, status=status, body=json.loads(body))
        cursor.execute(
            f"UPDATE {_TABLE} SET created_at = %s WHERE id = %s AND state = %s AND created_at < %s",  # noqa: S608
            [now, record_id, IN_FLIGHT, now - stale_after],
        )
        if cursor.rowcount == 0:
            return IdempotencyClaim(IdempotencyOutcome.IN_FLIGHT)
    return IdempotencyClaim(IdempotencyOutcome.CLAIMED, record_id=record_id)


def idempotency_finish(*, record_id: int, status: int, body: Any) -> None:
    """Store the response a claimed request produced, for its retries (same transaction as the effect)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_TABLE} SET state = %s, response_status = %s, response_body = %s::jsonb "  # noqa: S608
            "WHERE id = %s",
            [DONE, status, json.dumps(body), record_id],
        )
