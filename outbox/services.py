"""The outbox's writes (ADR 0008).

- `outbox_add` records a job in the caller's transaction and publishes it after commit; SQL callers call the SQL
  function outbox_add() instead and then `outbox_publish_on_commit`.
- `outbox_run` is what a job calls around its effect: it runs the effect and marks the row done in one transaction
  (skipping a row already done), so a job that dies before commit leaves its row pending for the relay.
- `outbox_relay` (every few seconds) publishes again what is pending past its due time, with backoff, and gives up
  after MAX_ATTEMPTS; `outbox_prune` deletes done rows after RETENTION.

A job published through the outbox receives its positional `args` and the keyword argument `outbox_key`; it must be
idempotent (the broker and the relay deliver at least once) and must call `outbox_run(key=outbox_key, ...)`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import connection, transaction
from django.utils import timezone

from config.celery import app as celery_app
from outbox.models import Entry, EntryStatus

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A job not done this long after it was recorded (or re-published) is published again. The SQL function outbox_add()
# sets the first due time with the same 20 seconds.
DELAY = timedelta(seconds=20)
# Re-publications back off: DELAY, 2 × DELAY, 4 × DELAY … up to BACKOFF_CAP between two of them.
BACKOFF_CAP = timedelta(minutes=10)
# After this many re-publications without the job marking its row done, the relay gives up (status failed):
# about 50 minutes of a job that fails every time (a bug) or of no worker consuming the queue.
MAX_ATTEMPTS = 10
# Done rows are kept this long (to look at in the admin), then deleted by the prune job.
RETENTION = timedelta(days=7)
# Rows the relay takes per run.
RELAY_BATCH = 500


def publish(*, job: str, args: list[Any], key: str) -> None:
    """Send the job to the broker by name (the outbox imports no job module). No publish retry and no result
    subscription: a failed publication is the relay's to repeat. (Connecting to a broker that is down still takes
    kombu a few seconds to give up on; the breaker below spares the callers after the first.)"""
    celery_app.send_task(job, args=args, kwargs={"outbox_key": key}, ignore_result=True, retry=False)


class _Breaker:
    """Process-local: after a failed publication, publications after commit are left to the relay for BREAK seconds.
    A broker that is down costs kombu several seconds to give up on (it retries the connection); without the
    breaker every check-in of that outage would wait that long before answering."""

    BREAK = 5.0

    def __init__(self) -> None:
        self.open_until = 0.0
        self.clock: Callable[[], float] = time.monotonic  # tests move it

    def is_open(self) -> bool:
        return self.clock() < self.open_until

    def trip(self) -> None:
        self.open_until = self.clock() + self.BREAK

    def reset(self) -> None:
        self.open_until = 0.0
        self.clock = time.monotonic


breaker = _Breaker()


def outbox_publish_on_commit(*, job: str, args: list[Any], key: str) -> None:
    """After the caller's transaction commits, publish the job at once. A failure (broker down) is logged and never
    reaches the caller: the row is committed and pending, so the relay publishes it after DELAY. While the breaker
    is open (a publication of this process failed within the last seconds) it is not even tried."""

    def send() -> None:
        if breaker.is_open():
            logger.info("outbox: broker recently down, %s (%s) is left to the relay", key, job)
            return
        try:
            publish(job=job, args=args, key=key)
        except Exception as exc:  # whatever the broker raises, the relay delivers the job later
            breaker.trip()
            logger.warning("outbox: could not publish %s (%s) after commit; the relay will: %r", key, job, exc)

    transaction.on_commit(send)


def outbox_add(*, job: str, args: list[Any], key: str, now: datetime | None = None) -> bool:
    """Record `job(*args, outbox_key=key)` in the caller's transaction (which must be open: the row has to commit
    or roll back with the effect) and publish it after commit. Idempotent by key: a key already recorded changes
    nothing, publishes nothing and returns False."""
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_add must run inside the transaction of the effect it follows from")
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT outbox_add(%s, %s, %s::jsonb, %s)", [key, job, json.dumps(args), now])
        (added,) = cursor.fetchone()
    if added:
        outbox_publish_on_commit(job=job, args=args, key=key)
    return bool(added)


def outbox_run(*, key: str | None, effect: Callable[[], T], now: datetime | None = None) -> T | None:
    """Run a job's effect once for its outbox row: in one transaction, lock the row, skip the effect if the row is
    done already (an earlier delivery did it; returns None), else run it and mark the row done. A job that dies
    (killed worker, lost connection, exception) rolls back both, so the row stays pending for the relay. Without a
    key (a job queued outside the outbox, the sweep) the effect just runs. A key without a row (pruned) runs the
    effect too: jobs are idempotent."""
    if key is None:
        return effect()
    with transaction.atomic():
        status = Entry.objects.select_for_update().filter(key=key).values_list("status", flat=True).first()
        if status == EntryStatus.DONE:
            return None
        result = effect()
        Entry.objects.filter(key=key).update(status=EntryStatus.DONE, done_at=now or timezone.now())
        return result


def backoff(attempts: int) -> timedelta:
    """How long after its `attempts`-th re-publication a still pending row is due again."""
    return min(DELAY * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


@dataclass(frozen=True)
class RelayResult:
    published: int = 0
    failed: int = 0  # given up (MAX_ATTEMPTS reached)
    broker_error: bool = False  # a publication failed; the rest of the batch waits for the next run


def outbox_relay(*, now: datetime | None = None, limit: int = RELAY_BATCH) -> RelayResult:
    """Publish again every pending row past its due time, oldest first; each is then due again after `backoff`.
    Rows are locked with SKIP LOCKED, so overlapping relays take different rows and a row whose job is running (the
    job holds its lock) is left alone. A publication error (broker down) stops the run and leaves that row and the
    rest due, without counting an attempt: a broker outage never makes a job give up."""
    now = now or timezone.now()
    published = failed = 0
    broker_error = False
    with transaction.atomic():
        rows = list(
            Entry.objects.select_for_update(skip_locked=True)
            .filter(status=EntryStatus.PENDING, due_at__lte=now)
            .order_by("due_at", "id")[:limit]
        )
        changed: list[Entry] = []
        for row in rows:
            if row.attempts >= MAX_ATTEMPTS:
                row.status = EntryStatus.FAILED
                row.last_error = row.last_error or "not done after the last re-publication"
                changed.append(row)
                failed += 1
                logger.error("outbox: gave up on %s (%s) after %s re-publications", row.key, row.job, row.attempts)
                continue
            try:
                publish(job=row.job, args=row.args, key=row.key)
            except Exception as exc:  # the broker's error; this row and the rest stay due
                row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                changed.append(row)
                broker_error = True
                logger.warning("outbox: relay could not publish %s (%s): %r", row.key, row.job, exc)
                break
            row.attempts += 1
            row.published_at = now
            row.due_at = now + backoff(row.attempts)
            row.last_error = ""
            changed.append(row)
            published += 1
        Entry.objects.bulk_update(changed, ["status", "attempts", "published_at", "due_at", "last_error"])
    return RelayResult(published=published, failed=failed, broker_error=broker_error)


def outbox_prune(*, now: datetime | None = None, older_than: timedelta = RETENTION) -> int:
    """Delete rows done more than `older_than` ago; pending and given-up rows stay."""
    now = now or timezone.now()
    deleted, _rows = Entry.objects.filter(status=EntryStatus.DONE, done_at__lt=now - older_than).delete()
    return deleted
