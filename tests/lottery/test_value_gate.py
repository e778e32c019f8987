"""The value gate (campaign_grant / campaign_charge / campaign_multiplier_issue) seen from the wheel and from the
Python wrappers; the scan that nothing bypasses it is tests/test_value_gate.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.kinds import BOOST
from campaigns.models import MultiplierCard
from campaigns.services import campaign_points_charge, campaign_points_grant, multiplier_card_issue
from lottery.kinds import PRIZE, SPIN
from lottery.models import Prize, PrizeKind
from lottery.services import spin_perform
from points import errors
from points.kinds import AWARD
from points.models import Account, AccountKind, Transfer
from points.selectors import balance_for
from points.services import Member, System, ledger_reconcile, ledger_rollup, transfer_post
from tasks.kinds import CHECKIN, STREAK_BONUS, TASK_REWARD

from .conftest import none_prize

pytestmark = pytest.mark.django_db


def fund_at(campaign, user_id: int, points: int, now) -> None:
    """Points spendable at `now` (the fixture `fund` posts at the wall clock)."""
    campaign_points_grant(campaign=campaign, user_id=user_id, amount=points, kind=AWARD, key=f"f{user_id}", now=now)


def _certain(wheel, prize: Prize) -> None:
    """Make `prize` (almost) certain: every other slot weight 1, this one 10^9."""
    Prize.objects.filter(wheel=wheel).update(weight=1)
    Prize.objects.filter(pk=prize.pk).update(weight=10**9)
    assert none_prize(wheel).weight == 1


def test_a_points_prize_is_paid_through_the_gate_and_a_multiplier_card_does_not_boost_it(
    campaign, wheel, member, add_prize
):
    now = campaign.official_starts_at + timedelta(hours=1)
    fund_at(campaign, member.pk, 50, now)
    multiplier_card_issue(campaign=campaign, user_id=member.pk, percent=300, hours=24, source_key="card", now=now)
    prize = add_prize(PrizeKind.POINTS, name="100 points", points_amount=100, stock=5)
    _certain(wheel, prize)
    draw = spin_perform(wheel=wheel, user_id=member.pk, request_key="s1", now=now).draw
    assert draw.prize_id == prize.pk
    paid = Transfer.objects.get(pk=draw.prize_transfer_id)
    issuance = Account.objects.get(kind=AccountKind.ISSUANCE, campaign_id=campaign.pk)
    assert (paid.kind, paid.amount, paid.debit_id, paid.campaign_id) == (PRIZE, 100, issuance.pk, campaign.pk)
    assert not Transfer.objects.filter(kind=BOOST).exists()  # the decision: prizes are won, not earned
    spent = Transfer.objects.get(pk=draw.spend_transfer_id)
    spend = Account.objects.get(kind=AccountKind.SPEND, campaign_id=campaign.pk)
    assert (spent.kind, spent.amount, spent.credit_id) == (SPIN, 50, spend.pk)
    # The same card in the same minute does boost what the gate boosts.
    campaign_points_grant(campaign=campaign, user_id=member.pk, amount=10, kind=CHECKIN, key="c1", now=now)
    assert list(Transfer.objects.filter(kind=BOOST).values_list("idempotency_key", "amount")) == [("c1:boost", 20)]
    assert balance_for(user_id=member.pk).spendable == 50 - 50 + 100 + 10 + 20
    ledger_rollup()
    assert ledger_reconcile().ok


def test_a_card_won_on_the_wheel_is_issued_by_the_gate_and_boosts_earnings(campaign, wheel, member, add_prize):
    now = campaign.official_starts_at + timedelta(hours=1)
    fund_at(campaign, member.pk, 50, now)
    prize = add_prize(PrizeKind.MULTIPLIER_CARD, name="x1.5", multiplier_percent=150, multiplier_hours=2, stock=5)
    _certain(wheel, prize)
    draw = spin_perform(wheel=wheel, user_id=member.pk, request_key="s1", now=now).draw
    card = MultiplierCard.objects.get(source_key=f"draw:{draw.pk}")
    assert (card.user_id, card.campaign_id, card.percent, card.starts_at, card.ends_at) == (
        member.pk,
        campaign.pk,
        150,
        now,
        now + timedelta(hours=2),
    )
    # Issuing again with the wheel's key returns that card and makes no other.
    again = multiplier_card_issue(
        campaign=campaign, user_id=member.pk, percent=400, hours=9, source_key=f"draw:{draw.pk}", now=now
    )
    assert (again.pk, again.percent, MultiplierCard.objects.count()) == (card.pk, 150, 1)
    for kind, key in ((CHECKIN, "c"), (STREAK_BONUS, "s"), (TASK_REWARD, "t"), (AWARD, "a")):
        campaign_points_grant(campaign=campaign, user_id=member.pk, amount=11, kind=kind, key=key, now=now)
    assert sorted(Transfer.objects.filter(kind=BOOST).values_list("idempotency_key", "amount", "reason")) == [
        ("c:boost", 5, "×1.5"),
        ("s:boost", 5, "×1.5"),
        ("t:boost", 5, "×1.5"),
    ]
    later = now + timedelta(hours=2)
    campaign_points_grant(campaign=campaign, user_id=member.pk, amount=11, kind=CHECKIN, key="late", now=later)
    assert not Transfer.objects.filter(idempotency_key="late:boost").exists()


def _raised(call) -> tuple[type[Exception], dict]:
    with pytest.raises(errors.LedgerError) as caught:
        call()
    return type(caught.value), caught.value.details


def test_the_gate_fails_exactly_as_the_ledger_does(campaign, member, make_user):
    now = campaign.official_starts_at + timedelta(hours=1)
    spend = System(AccountKind.SPEND, campaign.pk)
    stranger = make_user()

    def charge(user_id: int, amount: int, key: str, kind: str = SPIN):
        return lambda: campaign_points_charge(
            campaign=campaign, user_id=user_id, amount=amount, kind=kind, key=key, now=now
        )

    def ledger(user_id: int, amount: int, key: str, kind: str = SPIN):
        return lambda: transfer_post(
            key=key, debit=Member(user_id), credit=spend, amount=amount, kind=kind, campaign_id=campaign.pk, now=now
        )

    # No wallet at all, then too few points, then a bad amount and an unknown kind.
    assert _raised(charge(stranger.pk, 5, "g1")) == _raised(ledger(stranger.pk, 5, "l1"))
    assert _raised(charge(stranger.pk, 5, "g1"))[1] == {"available": 0, "requested": 5}
    fund_at(campaign, member.pk, 30, now)
    assert _raised(charge(member.pk, 31, "g2")) == _raised(ledger(member.pk, 31, "l2"))
    assert _raised(charge(member.pk, 31, "g2")) == (errors.InsufficientPoints, {"available": 30, "requested": 31})
    assert _raised(charge(member.pk, 0, "g3"))[0] is errors.InvalidAmount
    assert _raised(charge(member.pk, 1, "g4", kind="nonsense"))[0] is errors.InvalidInput
    # Replays return the original; the same key with other content is a conflict.
    first = charge(member.pk, 10, "g5")()
    replay = charge(member.pk, 10, "g5")()
    assert (first.created, replay.created, replay.transfer_id) == (True, False, first.transfer_id)
    ledger(member.pk, 10, "l5")()
    assert (
        _raised(charge(member.pk, 11, "g5"))[0]
        is _raised(ledger(member.pk, 11, "l5"))[0]
        is (errors.IdempotencyConflict)
    )
    grant = campaign_points_grant(campaign=campaign, user_id=member.pk, amount=7, kind=CHECKIN, key="g6", now=now)
    assert grant.created
    assert (
        campaign_points_grant(
            campaign=campaign, user_id=member.pk, amount=7, kind=CHECKIN, key="g6", now=now
        ).transfer_id
        == grant.transfer_id
    )
    assert balance_for(user_id=member.pk).spendable == 30 - 10 - 10 + 7
