"""Physical prizes through shipments: a spin creates the shipment (in both languages), the winner gives an
address (picked or new), operators ship it, and an unclaimed prize expires back into stock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Address
from accounts.services import address_save
from lottery.errors import AddressClosed, PrizeNotFound
from lottery.models import PRIZE_SHIPMENT, Prize
from lottery.selectors import prize_row, prize_rows
from lottery.services import prize_address_set, spin_perform
from shipments import registry
from shipments.models import Shipment
from shipments.selectors import shipment_queue
from shipments.services import shipment_transition, shipments_expire
from tests.data import ADDRESS

from .conftest import shipment_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def won(wheel, add_prize, member, fund):
    """The shipment of a physical prize the member has just won."""
    add_prize(weight=10**9, stock=5, name="华为手机", name_en="Huawei phone")
    fund(member.pk, 50)
    draw = spin_perform(wheel=wheel, user_id=member.pk, request_key="win").draw
    return shipment_of(draw)


def test_a_physical_win_creates_one_shipment_in_both_languages(won, wheel, member):
    assert (won.owner_kind, won.idempotency_key, won.member_id) == (PRIZE_SHIPMENT, f"draw:{won.owner_id}", member.pk)
    assert (won.item_name, won.item_name_en, won.status, won.recipient) == (
        "华为手机",
        "Huawei phone",
        "awaiting_address",
        "",
    )
    assert won.claim_deadline == won.created_at + timedelta(days=wheel.claim_days)
    again = spin_perform(wheel=wheel, user_id=member.pk, request_key="win")  # the same request: a replay
    assert again.replayed
    assert Shipment.objects.count() == 1
    assert registry.owner(PRIZE_SHIPMENT) is not None  # lottery/shipping.py registered the wheel


def test_new_address_is_validated_saved_and_copied(won, member):
    done = prize_address_set(user=member, draw_id=won.owner_id, data=ADDRESS)
    assert (done.pk, done.status) == (won.pk, "ready")
    assert done.recipient == "王小明"
    assert done.phone == "+8613800138000"
    assert Address.objects.filter(user=member).count() == 1
    assert list(shipment_queue()) == [done]


def test_saved_address_can_be_picked_and_changed_before_shipping(won, member):
    home = address_save(user=member, data=ADDRESS)
    office = address_save(user=member, data={**ADDRESS, "detail": "陆家嘴环路 1 号"})
    prize_address_set(user=member, draw_id=won.owner_id, address_id=home.pk)
    changed = prize_address_set(user=member, draw_id=won.owner_id, address_id=office.pk)
    assert changed.detail == "陆家嘴环路 1 号"
    address_save(user=member, data={"detail": "改了"}, address=office)
    won.refresh_from_db()
    assert won.detail == "陆家嘴环路 1 号"  # a copy: later address-book edits do not move a shipment


def test_invalid_address_changes_nothing(won, member):
    with pytest.raises(ValidationError) as exc:
        prize_address_set(user=member, draw_id=won.owner_id, data={**ADDRESS, "phone": "12", "recipient": ""})
    assert {"phone", "recipient"} <= set(exc.value.message_dict)
    won.refresh_from_db()
    assert won.status == "awaiting_address"
    assert not Address.objects.exists()


def test_someone_elses_prize_or_address_is_not_found(won, member, make_user):
    stranger = make_user()
    with pytest.raises(PrizeNotFound):
        prize_address_set(user=stranger, draw_id=won.owner_id, data=ADDRESS)
    with pytest.raises(PrizeNotFound):
        prize_address_set(user=member, draw_id=10**30, data=ADDRESS)
    theirs = address_save(user=stranger, data=ADDRESS)
    with pytest.raises(ValidationError) as picked:
        prize_address_set(user=member, draw_id=won.owner_id, address_id=theirs.pk)
    assert set(picked.value.message_dict) == {"address_id"}
    won.refresh_from_db()
    assert won.status == "awaiting_address"
    assert prize_row(user_id=stranger.pk, draw_id=won.owner_id, now=timezone.now()) is None


def test_after_shipping_the_address_is_closed(won, member):
    prize_address_set(user=member, draw_id=won.owner_id, data=ADDRESS)
    now = timezone.now()
    shipment_transition(shipment_id=won.pk, to="shipped", carrier="顺丰", tracking_number="SF1234567890", now=now)
    with pytest.raises(AddressClosed) as closed:
        prize_address_set(user=member, draw_id=won.owner_id, data=ADDRESS)
    assert closed.value.details == {"status": "shipped"}
    (row,) = prize_rows(user_id=member.pk, now=now, limit=10)
    assert (row.draw.pk, row.shipment.tracking_number, row.address_open) == (won.owner_id, "SF1234567890", False)


def test_unclaimed_prize_expires_and_returns_to_stock(won, member):
    prize = Prize.objects.get(name="华为手机")
    assert prize.stock_remaining == 4
    assert shipments_expire(now=won.claim_deadline - timedelta(seconds=1)) == []
    assert [s.pk for s in shipments_expire(now=won.claim_deadline)] == [won.pk]
    assert shipments_expire(now=won.claim_deadline + timedelta(days=1)) == []
    won.refresh_from_db()
    prize.refresh_from_db()
    assert won.status == "expired"
    assert prize.stock_remaining == 5
    with pytest.raises(AddressClosed) as closed:
        prize_address_set(user=member, draw_id=won.owner_id, data=ADDRESS, now=timezone.now())
    assert closed.value.details == {"status": "expired"}


def test_address_after_the_deadline_is_refused(won, member):
    with pytest.raises(AddressClosed) as closed:
        prize_address_set(user=member, draw_id=won.owner_id, data=ADDRESS, now=won.claim_deadline)
    assert closed.value.details == {"status": "expired"}  # said as the member sees it, before the job ran
    assert shipment_of(won.owner_id).status == "awaiting_address"
