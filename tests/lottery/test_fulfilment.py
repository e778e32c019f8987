"""Physical prizes: the winner gives an address, operators ship (one by one or by CSV), deliver or take back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Address
from accounts.services import address_save
from lottery.errors import AddressClosed, PrizeNotFound, ShipmentStateInvalid
from lottery.models import Fulfilment, FulfilmentStatus, Prize
from lottery.selectors import fulfilment_queue, fulfilments_csv
from lottery.services import (
    fulfilment_address_set,
    fulfilment_transition,
    fulfilments_expire,
    fulfilments_ship_csv,
    spin_perform,
)

from .conftest import ADDRESS

pytestmark = pytest.mark.django_db


@pytest.fixture
def won(wheel, add_prize, member, fund):
    """A physical prize the member has just won."""
    add_prize(weight=10**9, stock=5)
    fund(member.pk, 50)
    draw = spin_perform(wheel=wheel, user_id=member.pk, request_key="win").draw
    return Fulfilment.objects.get(draw=draw)


def test_new_address_is_validated_saved_and_copied(won, member):
    done = fulfilment_address_set(user=member, draw_id=won.draw_id, data=ADDRESS)
    assert done.status == FulfilmentStatus.READY
    assert done.recipient == "王小明"
    assert done.phone == "+8613800138000"
    assert Address.objects.filter(user=member).count() == 1
    assert list(fulfilment_queue()) == [done]


def test_saved_address_can_be_picked_and_changed_before_shipping(won, member):
    home = address_save(user=member, data=ADDRESS)
    office = address_save(user=member, data={**ADDRESS, "detail": "陆家嘴环路 1 号"})
    fulfilment_address_set(user=member, draw_id=won.draw_id, address_id=home.pk)
    changed = fulfilment_address_set(user=member, draw_id=won.draw_id, address_id=office.pk)
    assert changed.detail == "陆家嘴环路 1 号"
    address_save(user=member, data={"detail": "改了"}, address=office)
    won.refresh_from_db()
    assert won.detail == "陆家嘴环路 1 号"  # a copy: later address-book edits do not move a shipment


def test_invalid_address_changes_nothing(won, member):
    with pytest.raises(ValidationError) as exc:
        fulfilment_address_set(user=member, draw_id=won.draw_id, data={**ADDRESS, "phone": "12", "recipient": ""})
    assert {"phone", "recipient"} <= set(exc.value.message_dict)
    won.refresh_from_db()
    assert won.status == FulfilmentStatus.AWAITING_ADDRESS
    assert not Address.objects.exists()


def test_someone_elses_prize_or_address_is_not_found(won, member, make_user):
    stranger = make_user()
    with pytest.raises(PrizeNotFound):
        fulfilment_address_set(user=stranger, draw_id=won.draw_id, data=ADDRESS)
    with pytest.raises(PrizeNotFound):
        fulfilment_address_set(user=member, draw_id=10**30, data=ADDRESS)
    theirs = address_save(user=stranger, data=ADDRESS)
    with pytest.raises(ValidationError):
        fulfilment_address_set(user=member, draw_id=won.draw_id, address_id=theirs.pk)
    won.refresh_from_db()
    assert won.status == FulfilmentStatus.AWAITING_ADDRESS


def test_ship_deliver_return_and_wrong_states(won, member):
    with pytest.raises(ShipmentStateInvalid):
        fulfilment_transition(fulfilment_id=won.pk, to=FulfilmentStatus.SHIPPED, carrier="SF", tracking_number="1")
    fulfilment_address_set(user=member, draw_id=won.draw_id, data=ADDRESS)
    with pytest.raises(ValidationError):
        fulfilment_transition(fulfilment_id=won.pk, to=FulfilmentStatus.SHIPPED, carrier="", tracking_number="")
    shipped = fulfilment_transition(
        fulfilment_id=won.pk, to=FulfilmentStatus.SHIPPED, carrier="顺丰", tracking_number="SF1234567890"
    )
    assert (shipped.status, shipped.carrier, shipped.tracking_number) == ("shipped", "顺丰", "SF1234567890")
    with pytest.raises(AddressClosed):
        fulfilment_address_set(user=member, draw_id=won.draw_id, data=ADDRESS)
    assert fulfilment_transition(fulfilment_id=won.pk, to=FulfilmentStatus.DELIVERED).status == "delivered"
    with pytest.raises(ShipmentStateInvalid):
        fulfilment_transition(fulfilment_id=won.pk, to=FulfilmentStatus.DELIVERED)
    assert fulfilment_transition(fulfilment_id=won.pk, to=FulfilmentStatus.RETURNED).status == "returned"
    with pytest.raises(PrizeNotFound):
        fulfilment_transition(fulfilment_id=10**9, to=FulfilmentStatus.DELIVERED)


def test_csv_round_trip_marks_shipped(won, member):
    fulfilment_address_set(user=member, draw_id=won.draw_id, data=ADDRESS)
    sheet = fulfilments_csv(fulfilment_queue())
    assert sheet.startswith("\ufeffshipment_id,carrier,tracking_number,")
    assert "王小明" in sheet
    filled = sheet.replace(f"\n{won.pk},,,", f"\n{won.pk},顺丰,SF99,")
    result = fulfilments_ship_csv(text=filled)
    assert (result.shipped, result.errors) == (1, [])
    won.refresh_from_db()
    assert (won.status, won.tracking_number) == ("shipped", "SF99")


def test_csv_with_any_bad_row_changes_nothing(won, member, wheel, fund):
    fulfilment_address_set(user=member, draw_id=won.draw_id, data=ADDRESS)
    text = f"shipment_id,carrier,tracking_number\n{won.pk},SF,1\n999999,SF,2\nabc,SF,3\n"
    result = fulfilments_ship_csv(text=text)
    assert result.shipped == 0
    assert len(result.errors) == 1  # the syntax error is reported first; then nothing is attempted
    text = f"shipment_id,carrier,tracking_number\n{won.pk},SF,1\n999999,SF,2\n"
    result = fulfilments_ship_csv(text=text)
    assert result.shipped == 0
    assert len(result.errors) == 1
    assert "999999" in result.errors[0]
    won.refresh_from_db()
    assert won.status == FulfilmentStatus.READY
    assert fulfilments_ship_csv(text="id,x\n1,2\n").errors
    assert fulfilments_ship_csv(text="shipment_id,carrier,tracking_number\n").errors


def test_unclaimed_prize_expires_and_returns_to_stock(won, member):
    prize = Prize.objects.get(pk=won.prize_id)
    assert prize.stock_remaining == 4
    assert fulfilments_expire(now=won.claim_deadline - timedelta(seconds=1)) == 0
    assert fulfilments_expire(now=won.claim_deadline) == 1
    assert fulfilments_expire(now=won.claim_deadline + timedelta(days=1)) == 0
    won.refresh_from_db()
    prize.refresh_from_db()
    assert won.status == FulfilmentStatus.EXPIRED
    assert prize.stock_remaining == 5
    with pytest.raises(AddressClosed):
        fulfilment_address_set(user=member, draw_id=won.draw_id, data=ADDRESS, now=timezone.now())


def test_address_after_the_deadline_is_refused(won, member):
    with pytest.raises(AddressClosed):
        fulfilment_address_set(user=member, draw_id=won.draw_id, data=ADDRESS, now=won.claim_deadline)
