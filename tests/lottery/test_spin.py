"""The spin service: cost, draw, stock, caps, replay, prizes handed over, and its errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.errors import CampaignNotActive
from campaigns.models import MultiplierCard
from config.codes import code_normalize
from lottery.errors import InvalidSpinKey, SpinLimitReached
from lottery.models import Draw, Prize, PrizeKind, WheelPlayer
from lottery.services import spin_perform
from mall.codes import code_pool_import
from mall.models import Code, CodePool
from points.errors import InsufficientPoints
from points.selectors import balance_for
from points.services import ledger_reconcile, ledger_rollup

from .conftest import none_prize, shipment_of

pytestmark = pytest.mark.django_db


def spendable(user_id: int) -> int:
    return balance_for(user_id=user_id).spendable


def test_spin_debits_cost_and_records_a_fair_draw(wheel, member, fund):
    fund(member.pk, 120)
    result = spin_perform(wheel=wheel, user_id=member.pk, request_key="k1")
    assert not result.replayed
    draw = result.draw
    assert draw.spin_number == 1
    assert draw.cost_points == 50
    assert draw.prize == none_prize(wheel)
    assert draw.table == [[none_prize(wheel).pk, 100]]
    assert 0 <= draw.roll < 100
    assert spendable(member.pk) == 70
    second = spin_perform(wheel=wheel, user_id=member.pk, request_key="k2")
    assert second.draw.spin_number == 2
    assert spendable(member.pk) == 20


def test_replayed_key_returns_the_same_draw_and_debits_once(wheel, member, fund):
    fund(member.pk, 100)
    first = spin_perform(wheel=wheel, user_id=member.pk, request_key="same")
    again = spin_perform(wheel=wheel, user_id=member.pk, request_key="same")
    assert again.replayed
    assert again.draw.pk == first.draw.pk
    assert spendable(member.pk) == 50
    assert Draw.objects.count() == 1


def test_too_few_points_changes_nothing(wheel, member, fund):
    fund(member.pk, 49)
    with pytest.raises(InsufficientPoints):
        spin_perform(wheel=wheel, user_id=member.pk, request_key="k")
    assert spendable(member.pk) == 49
    assert not Draw.objects.exists()
    assert (
        WheelPlayer.objects.filter(user=member).first() is None or WheelPlayer.objects.get(user=member).spins_total == 0
    )


def test_daily_cap_and_free_spins(wheel, member, fund):
    wheel.daily_cap, wheel.free_spins_per_day = 3, 1
    wheel.save()
    fund(member.pk, 100)
    costs = [spin_perform(wheel=wheel, user_id=member.pk, request_key=f"k{i}").draw.cost_points for i in range(3)]
    assert costs == [0, 50, 50]
    with pytest.raises(SpinLimitReached):
        spin_perform(wheel=wheel, user_id=member.pk, request_key="k4")
    tomorrow = timezone.now() + timedelta(days=1)
    fund(member.pk, 0 + 50)
    assert spin_perform(wheel=wheel, user_id=member.pk, request_key="k5", now=tomorrow).draw.cost_points == 0


def test_outside_official_phase_is_refused(wheel, member, fund):
    fund(member.pk, 100)
    with pytest.raises(CampaignNotActive):
        spin_perform(wheel=wheel, user_id=member.pk, now=wheel.campaign.followup_starts_at + timedelta(seconds=1))
    assert spendable(member.pk) == 100


def test_bad_request_key_is_refused(wheel, member, fund):
    fund(member.pk, 100)
    with pytest.raises(InvalidSpinKey):
        spin_perform(wheel=wheel, user_id=member.pk, request_key="x" * 121)
    with pytest.raises(InvalidSpinKey):
        spin_perform(wheel=wheel, user_id=member.pk, request_key="bad\nkey")
    assert spendable(member.pk) == 100


def test_each_prize_kind_is_handed_over(wheel, member, fund, add_prize):
    pool = CodePool.objects.create(name="coupons")
    assert code_pool_import(pool=pool, text="COUPON-0001\nCOUPON-0002") == (2, [])
    none = none_prize(wheel)
    kinds = {
        PrizeKind.POINTS: add_prize(PrizeKind.POINTS, name="100 points", points_amount=100),
        PrizeKind.MULTIPLIER_CARD: add_prize(PrizeKind.MULTIPLIER_CARD, name="x2"),
        PrizeKind.COUPON: add_prize(PrizeKind.COUPON, name="coupon", code_pool=pool, stock=2),
        PrizeKind.MEMBERSHIP_VOUCHER: add_prize(PrizeKind.MEMBERSHIP_VOUCHER, name="VIP"),
        PrizeKind.PHYSICAL: add_prize(PrizeKind.PHYSICAL, name="phone"),
    }
    for kind, prize in kinds.items():
        Prize.objects.exclude(pk=prize.pk).exclude(pk=none.pk).update(weight=1)
        fund(member.pk, 50)
        # make this prize (almost) certain: none gets weight 1 too, others 1, this one huge
        Prize.objects.filter(pk=none.pk).update(weight=1)
        Prize.objects.filter(pk=prize.pk).update(weight=10**9)
        draw = spin_perform(wheel=wheel, user_id=member.pk, request_key=f"kind-{kind}").draw
        assert draw.prize_id == prize.pk, kind
    by_kind = {d.prize.kind: d for d in Draw.objects.select_related("prize")}
    assert by_kind[PrizeKind.POINTS].prize_transfer_id is not None
    assert MultiplierCard.objects.filter(user=member, percent=200).exists()
    assert by_kind[PrizeKind.COUPON].code in {"COUPON-0001", "COUPON-0002"}
    assert Code.objects.filter(assigned_to=member).count() == 1
    voucher = by_kind[PrizeKind.MEMBERSHIP_VOUCHER].code
    assert voucher.startswith("MV-")
    assert code_normalize(voucher[3:]) == voucher[3:]  # config.codes' alphabet
    assert len(voucher) == 3 + 12
    assert shipment_of(by_kind[PrizeKind.PHYSICAL]).status == "awaiting_address"
    assert Prize.objects.get(pk=kinds[PrizeKind.PHYSICAL].pk).stock_remaining == 4
    assert spendable(member.pk) == 100  # 5 × 50 funded, 5 × 50 spent, +100 points prize
    ledger_rollup()
    assert ledger_reconcile().ok


def test_sold_out_prize_drops_out_of_the_draw(wheel, member, fund, add_prize):
    phone = add_prize(PrizeKind.PHYSICAL, weight=10**9, stock=1)
    fund(member.pk, 100)
    assert spin_perform(wheel=wheel, user_id=member.pk, request_key="a").draw.prize_id == phone.pk
    second = spin_perform(wheel=wheel, user_id=member.pk, request_key="b").draw
    assert second.prize_id == none_prize(wheel).pk
    assert second.table == [[none_prize(wheel).pk, 100]]
    phone.refresh_from_db()
    assert phone.stock_remaining == 0


def test_per_member_cap_removes_the_prize_for_that_member(wheel, member, fund, add_prize):
    phone = add_prize(PrizeKind.PHYSICAL, weight=10**9, stock=5, per_member_cap=1)
    fund(member.pk, 100)
    assert spin_perform(wheel=wheel, user_id=member.pk, request_key="a").draw.prize_id == phone.pk
    assert spin_perform(wheel=wheel, user_id=member.pk, request_key="b").draw.prize_id != phone.pk


def _spin_task(campaign):
    from tasks.engine import task_definition_save
    from tasks.models import TaskDefinition

    return task_definition_save(
        task=TaskDefinition(
            campaign=campaign, tier="beginner", title="转 2 次", event_type="spin", target_count=2, reward_points=30
        )
    )


def _spin_paths_behave(wheel, member, fund):
    """Spins count towards spin tasks; refusals change nothing; a replay is a replay."""
    from tasks.models import TaskProgress

    task = _spin_task(wheel.campaign)
    fund(member.pk, 100)
    spin_perform(wheel=wheel, user_id=member.pk, request_key="t1")
    assert TaskProgress.objects.get(task=task, user=member).count == 1
    assert spin_perform(wheel=wheel, user_id=member.pk, request_key="t1").replayed
    spin_perform(wheel=wheel, user_id=member.pk, request_key="t2")
    progress = TaskProgress.objects.get(task=task, user=member)
    assert (progress.count, progress.completed_at is not None) == (2, True)
    with pytest.raises(InsufficientPoints):
        spin_perform(wheel=wheel, user_id=member.pk, request_key="t3")
    assert WheelPlayer.objects.get(user=member).spins_total == 2
    assert TaskProgress.objects.get(task=task, user=member).count == 2
    assert spendable(member.pk) == 30  # 100 funded - 2 × 50 spent + the task reward (auto-paid)


def test_spins_count_towards_spin_tasks(wheel, member, fund):
    _spin_paths_behave(wheel, member, fund)


@pytest.mark.django_db(transaction=True)
def test_spins_outside_any_transaction_count_towards_spin_tasks(wheel, member, fund):
    """Without a surrounding transaction a spin is one autocommitted SQL call, unless tasks count spins."""
    _spin_paths_behave(wheel, member, fund)
    wheel.daily_cap = 2
    wheel.save()
    fund(member.pk, 50)
    with pytest.raises(SpinLimitReached):
        spin_perform(wheel=wheel, user_id=member.pk, request_key="t4")
    assert spendable(member.pk) == 80
