"""The prize wheel's scheduled job: unclaimed physical prizes expire and their unit goes back into stock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lottery import jobs
from lottery.errors import AddressClosed
from lottery.models import Fulfilment, FulfilmentStatus, Prize
from lottery.services import fulfilment_address_set, fulfilments_expire, spin_perform

from .conftest import ADDRESS

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone(add_prize) -> Prize:
    return add_prize(weight=10**9, stock=5)


@pytest.fixture
def win(wheel, phone, member, fund):
    """win(key) -> the shipment of a physical prize the member has just won."""

    def spin(key: str) -> Fulfilment:
        fund(member.pk, 50)
        draw = spin_perform(wheel=wheel, user_id=member.pk, request_key=key).draw
        assert draw.prize_id == phone.pk
        return Fulfilment.objects.get(draw=draw)

    return spin


def stock(prize: Prize) -> int | None:
    return Prize.objects.get(pk=prize.pk).stock_remaining


def test_unclaimed_prize_expires_once_and_its_unit_returns_to_stock(win, phone, member):
    unclaimed = win("a")
    claimed = win("b")
    fulfilment_address_set(user=member, draw_id=claimed.draw_id, data=ADDRESS)
    assert stock(phone) == 3
    deadline = unclaimed.claim_deadline

    assert fulfilments_expire(now=deadline - timedelta(seconds=1)) == 0  # not yet
    assert stock(phone) == 3

    after = deadline + timedelta(hours=1)
    assert fulfilments_expire(now=after) == 1
    unclaimed.refresh_from_db()
    claimed.refresh_from_db()
    assert (unclaimed.status, unclaimed.expired_at) == (FulfilmentStatus.EXPIRED, after)
    assert claimed.status == FulfilmentStatus.READY  # an address was given: it ships, whatever the date
    assert claimed.expired_at is None
    assert stock(phone) == 4

    # Running again (or later) changes nothing more.
    assert fulfilments_expire(now=after) == 0
    assert fulfilments_expire(now=after + timedelta(days=30)) == 0
    assert stock(phone) == 4
    assert Fulfilment.objects.get(pk=unclaimed.pk).expired_at == after


def test_an_expired_prize_can_no_longer_be_claimed(win, member):
    unclaimed = win("a")
    fulfilments_expire(now=unclaimed.claim_deadline)
    with pytest.raises(AddressClosed):
        fulfilment_address_set(user=member, draw_id=unclaimed.draw_id, data=ADDRESS)
    assert Fulfilment.objects.get(pk=unclaimed.pk).status == FulfilmentStatus.EXPIRED


def test_the_celery_job_runs_the_service_eagerly(win, phone):
    overdue = win("a")
    fresh = win("b")
    # The job uses the real clock: move one deadline into the past instead of waiting.
    Fulfilment.objects.filter(pk=overdue.pk).update(claim_deadline=overdue.created_at - timedelta(days=1))

    result = jobs.fulfilments_expire.apply()
    assert result.successful(), result.traceback
    assert result.get() == 1
    assert Fulfilment.objects.get(pk=overdue.pk).status == FulfilmentStatus.EXPIRED
    assert Fulfilment.objects.get(pk=fresh.pk).status == FulfilmentStatus.AWAITING_ADDRESS
    assert stock(phone) == 4
    assert jobs.fulfilments_expire.apply().get() == 0
    assert stock(phone) == 4
