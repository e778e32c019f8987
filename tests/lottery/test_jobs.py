"""The prize wheel's side of the hourly shipments expiry job: an unclaimed physical prize expires and its unit goes
back into stock (the wheel's registered hook), once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lottery.errors import AddressClosed
from lottery.models import Prize
from lottery.services import prize_address_set, spin_perform
from shipments import jobs
from shipments.models import Shipment
from shipments.services import shipments_expire
from tests.data import ADDRESS

from .conftest import shipment_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone(add_prize) -> Prize:
    return add_prize(weight=10**9, stock=5)


@pytest.fixture
def win(wheel, phone, member, fund):
    """win(key) -> the shipment of a physical prize the member has just won."""

    def spin(key: str) -> Shipment:
        fund(member.pk, 50)
        draw = spin_perform(wheel=wheel, user_id=member.pk, request_key=key).draw
        assert draw.prize_id == phone.pk
        return shipment_of(draw)

    return spin


def stock(prize: Prize) -> int | None:
    return Prize.objects.get(pk=prize.pk).stock_remaining


def test_unclaimed_prize_expires_once_and_its_unit_returns_to_stock(win, phone, member):
    unclaimed = win("a")
    claimed = win("b")
    prize_address_set(user=member, draw_id=claimed.owner_id, data=ADDRESS)
    assert stock(phone) == 3
    deadline = unclaimed.claim_deadline

    assert shipments_expire(now=deadline - timedelta(seconds=1)) == []  # not yet
    assert stock(phone) == 3

    after = deadline + timedelta(hours=1)
    assert [s.pk for s in shipments_expire(now=after)] == [unclaimed.pk]
    unclaimed.refresh_from_db()
    claimed.refresh_from_db()
    assert (unclaimed.status, unclaimed.expired_at) == ("expired", after)
    assert claimed.status == "ready"  # an address was given: it ships, whatever the date
    assert claimed.expired_at is None
    assert stock(phone) == 4

    # Running again (or later) changes nothing more.
    assert shipments_expire(now=after) == []
    assert shipments_expire(now=after + timedelta(days=30)) == []
    assert stock(phone) == 4
    assert Shipment.objects.get(pk=unclaimed.pk).expired_at == after


def test_an_expired_prize_can_no_longer_be_claimed(win, member):
    unclaimed = win("a")
    shipments_expire(now=unclaimed.claim_deadline)
    with pytest.raises(AddressClosed):
        prize_address_set(user=member, draw_id=unclaimed.owner_id, data=ADDRESS)
    assert Shipment.objects.get(pk=unclaimed.pk).status == "expired"


def test_the_celery_job_runs_the_service_eagerly(win, phone):
    overdue = win("a")
    fresh = win("b")
    # The job uses the real clock: move one deadline into the past instead of waiting.
    Shipment.objects.filter(pk=overdue.pk).update(claim_deadline=overdue.created_at - timedelta(days=1))

    result = jobs.expire.apply()
    assert result.successful(), result.traceback
    assert result.get() == 1
    assert Shipment.objects.get(pk=overdue.pk).status == "expired"
    assert Shipment.objects.get(pk=fresh.pk).status == "awaiting_address"
    assert stock(phone) == 4
    assert jobs.expire.apply().get() == 0
    assert stock(phone) == 4
