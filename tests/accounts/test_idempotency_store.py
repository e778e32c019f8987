"""accounts.idempotency: the store behind config.api.idempotent, with time injected."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from accounts import idempotency
from accounts.models import IdempotencyRecord
from config.api import IdempotencyOutcome, idempotency_store

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
STALE = timedelta(minutes=5)


def claim(user, *, digest="d1", now=T0):
    return idempotency.idempotency_claim(
        user_id=user.pk, key="k", method="POST", path="/api/v1/x", digest=digest, now=now, stale_after=STALE
    )


def test_the_configured_store_is_this_module():
    assert settings.IDEMPOTENCY_STORE == "accounts.idempotency"
    assert idempotency_store() is idempotency


def test_claim_then_in_flight_then_replay(member):
    first = claim(member)
    assert first.outcome == IdempotencyOutcome.CLAIMED
    assert claim(member).outcome == IdempotencyOutcome.IN_FLIGHT
    assert claim(member, digest="other").outcome == IdempotencyOutcome.REUSED
    idempotency.idempotency_finish(record_id=first.record_id, status=201, body={"id": 7})
    replay = claim(member, now=T0 + timedelta(hours=1))
    assert (replay.outcome, replay.status, replay.body) == (IdempotencyOutcome.REPLAY, 201, {"id": 7})


def test_a_claim_stuck_in_flight_is_taken_over_after_the_stale_time(member):
    first = claim(member)
    IdempotencyRecord.objects.filter(pk=first.record_id).update(created_at=T0)
    assert claim(member, now=T0 + STALE - timedelta(seconds=1)).outcome == IdempotencyOutcome.IN_FLIGHT
    taken = claim(member, now=T0 + STALE + timedelta(seconds=1))
    assert (taken.outcome, taken.record_id) == (IdempotencyOutcome.CLAIMED, first.record_id)
    # the takeover restarted the clock: a third attempt right after is in flight again
    assert claim(member, now=T0 + STALE + timedelta(seconds=2)).outcome == IdempotencyOutcome.IN_FLIGHT
