"""A level's reward under real concurrency (threads released together by a barrier, real Postgres): twenty earnings of
one member at once, each followed by its evaluation, promote once and pay the reward exactly once; the ledger
reconciles."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import User
from campaigns.builders import campaign_live, member_fund
from levels.builders import ladder_build
from levels.models import LevelAward, LevelChange, MemberLevel
from levels.services import member_level_evaluate
from points.models import Transfer
from points.selectors import balance_for
from points.services import ledger_reconcile, ledger_rollup
from tests.conftest import run_concurrently
from tests.levels.conftest import TWO_LEVELS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_twenty_concurrent_earnings_pay_the_level_reward_once() -> None:
    now = timezone.now()
    campaign = campaign_live(now=now, is_featured=True)
    ladder_build(campaign=campaign, levels=TWO_LEVELS)
    member = User.objects.create(phone="+8613900000001", email="level@example.com", date_joined=now)

    def earn(i: int) -> int:
        member_fund(campaign=campaign, user_id=member.pk, points=100, now=now, key=f"earn:{i}")
        evaluation = member_level_evaluate(user_id=member.pk, now=now)
        assert evaluation is not None
        return evaluation.member.level.rank

    results = run_concurrently(20, earn)
    assert all(isinstance(r, int) for r in results), results
    assert results.count(1) >= 1  # the evaluations after the 10th earning see Gold
    assert MemberLevel.objects.get(user=member).level.rank == 1
    assert LevelAward.objects.filter(user=member).count() == 1
    assert Transfer.objects.filter(kind="level_reward").count() == 1
    assert LevelChange.objects.filter(user=member, cause="promotion").count() == 1
    assert balance_for(user_id=member.pk).spendable == 20 * 100 + 50
    ledger_rollup()
    assert ledger_reconcile().ok
