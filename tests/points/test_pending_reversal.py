"""A pending earn (a reward on hold, campaign_grant's available_at) can be reversed before it becomes spendable:
the reversal takes back that earn's own pending lot, never the member's other points."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.builders import campaign_live, member_fund
from campaigns.services import campaign_points_grant
from points.selectors import balance_for
from points.services import ledger_reconcile, ledger_rollup, transfer_reverse

pytestmark = pytest.mark.django_db


def test_reversing_a_pending_reward_takes_its_own_lot(member) -> None:
    now = timezone.now()
    campaign = campaign_live(now=now)
    member_fund(campaign=campaign, user_id=member.pk, points=300, now=now, key="fund")
    pending = campaign_points_grant(
        campaign=campaign,
        user_id=member.pk,
        amount=100,
        kind="task_reward",
        key="held-reward",
        now=now,
        reason="奖励",
        reason_en="Reward",
        available_at=now + timedelta(days=7),
    )
    before = balance_for(user_id=member.pk, now=now)
    assert (before.spendable, before.pending) == (300, 100)
    transfer_reverse(transfer_id=pending.transfer_id, key="held-reward:reverse", reason="fraud", now=now)
    after = balance_for(user_id=member.pk, now=now)
    assert (after.spendable, after.pending) == (300, 0)  # the member's own points are untouched
    later = balance_for(user_id=member.pk, now=now + timedelta(days=8))
    assert (later.spendable, later.pending) == (300, 0)
    ledger_rollup()
    assert ledger_reconcile().ok
