from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from points import services
from points.models import Account, Transfer
from points.services import Member, System


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 5, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def earn(user, amount, *, key=None, now=None, campaign_id=None, **kw):
    return services.transfer_post(
        key=key or f"earn:{user.pk}:{amount}:{uuid.uuid4()}",
        debit=System("issuance", campaign_id),
        credit=Member(user.pk),
        amount=amount,
        kind="earn",
        campaign_id=campaign_id,
        now=now,
        **kw,
    )


def spend(user, amount, *, key, now=None, campaign_id=None):
    return services.transfer_post(
        key=key,
        debit=Member(user.pk),
        credit=System("spend", campaign_id),
        amount=amount,
        kind="spend",
        campaign_id=campaign_id,
        now=now,
    )


def wallet(user) -> Account:
    return Account.objects.get(user=user, kind="wallet", asset="PTS")


def assert_ledger_consistent() -> None:
    run = services.ledger_reconcile()
    assert run.ok, run.drift
    assert Transfer.objects.exists()
