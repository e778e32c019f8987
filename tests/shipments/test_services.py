"""Shipments on their own: idempotent creation (SQL shipment_create), the member's address, the operators' moves
by the one table, the logistics company's CSV, expiry with the owner's hook, and the database's own guards."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from accounts.services import address_save
from shipments import registry, rules
from shipments.errors import ShipmentKeyConflict, ShipmentNotFound, ShipmentStateInvalid
from shipments.models import Shipment
from shipments.selectors import csv_safe, shipment_address_open, shipment_queue, shipments_csv, shipments_of
from shipments.services import (
    shipment_address_set,
    shipment_cancel,
    shipment_create,
    shipment_transition,
    shipments_expire,
    shipments_ship_csv,
    shipments_transition,
)
from tests.data import ADDRESS

from .conftest import GIFT, PARCEL

pytestmark = pytest.mark.django_db


def status_of(shipment: Shipment) -> str:
    return Shipment.objects.get(pk=shipment.pk).status


# --- Creation ----------------------------------------------------------------------------------------------


def test_create_is_idempotent_per_owner_kind_and_key(hooks, member, make_user):
    now = timezone.now()
    args = {"owner_kind": PARCEL, "owner_id": 7, "key": "order:7", "member_id": member.pk, "now": now}
    first = shipment_create(**args, item_name="耳机", item_name_en="Headphones", claim_deadline=now + timedelta(days=3))
    again = shipment_create(**args, item_name="耳机", item_name_en="Headphones")
    assert again.pk == first.pk
    assert Shipment.objects.count() == 1
    assert (first.status, first.item_name, first.item_name_en, first.recipient) == (
        "awaiting_address",
        "耳机",
        "Headphones",
        "",
    )
    assert first.claim_deadline == now + timedelta(days=3)
    other_kind = shipment_create(**{**args, "owner_kind": GIFT}, item_name="耳机")  # keys are per owner kind
    assert other_kind.pk != first.pk

    with pytest.raises(ShipmentKeyConflict):  # the same key for another owner is a bug of the caller
        shipment_create(**{**args, "owner_id": 8}, item_name="耳机")
    with pytest.raises(ShipmentKeyConflict):
        shipment_create(**{**args, "member_id": make_user().pk}, item_name="耳机")
    assert Shipment.objects.count() == 2


def test_create_needs_a_registered_owner_kind(member):
    with pytest.raises(ValueError, match="not registered"):
        shipment_create(owner_kind="nobody.thing", owner_id=1, key="k", member_id=member.pk, item_name="x",
                        now=timezone.now())  # fmt: skip
    assert not Shipment.objects.exists()


def test_item_name_is_shown_in_the_readers_language(make_shipment):
    shipment = make_shipment(item_name="保温杯", item_name_en="Thermos")
    with translation.override("en"):
        assert shipment.item_display == "Thermos"
    with translation.override("zh-hans"):
        assert shipment.item_display == "保温杯"
    no_english = make_shipment(item_name="月饼", item_name_en="")
    with translation.override("en"):
        assert no_english.item_display == "月饼"


# --- The member's address -----------------------------------------------------------------------------------


def test_address_is_copied_and_can_change_until_shipped(make_shipment, member):
    shipment = make_shipment(ready=False)
    now = timezone.now()
    assert shipment_address_open(shipment=shipment, now=now)
    home = address_save(user=member, data=ADDRESS)
    ready = shipment_address_set(shipment_id=shipment.pk, address=home, now=now)
    assert (ready.status, ready.recipient, ready.phone, ready.address_at) == ("ready", "王小明", "+8613800138000", now)
    office = address_save(user=member, data={**ADDRESS, "detail": "陆家嘴环路 1 号"})
    assert shipment_address_set(shipment_id=shipment.pk, address=office, now=now).detail == "陆家嘴环路 1 号"
    address_save(user=member, data={"detail": "改了"}, address=office)
    assert Shipment.objects.get(pk=shipment.pk).detail == "陆家嘴环路 1 号"  # a copy, not a link

    shipment_transition(shipment_id=shipment.pk, to="shipped", carrier="顺丰", tracking_number="SF1", now=now)
    shipped = Shipment.objects.get(pk=shipment.pk)
    assert not shipment_address_open(shipment=shipped, now=now)
    with pytest.raises(ShipmentStateInvalid) as refused:
        shipment_address_set(shipment_id=shipment.pk, address=home, now=now)
    assert refused.value.details == {"status": "shipped", "to": "ready"}
    assert Shipment.objects.get(pk=shipment.pk).detail == "陆家嘴环路 1 号"


def test_the_claim_deadline_closes_the_address_only_while_none_was_given(make_shipment, address):
    deadline = timezone.now() + timedelta(days=1)
    waiting = make_shipment(ready=False, deadline=deadline)
    assert shipment_address_open(shipment=waiting, now=deadline - timedelta(seconds=1))
    assert not shipment_address_open(shipment=waiting, now=deadline)
    with pytest.raises(ShipmentStateInvalid):
        shipment_address_set(shipment_id=waiting.pk, address=address, now=deadline)
    assert status_of(waiting) == "awaiting_address"

    given = make_shipment(ready=True, deadline=deadline)
    later = deadline + timedelta(days=30)
    assert shipment_address_open(shipment=given, now=later)  # an address was given: it may still change
    assert shipment_address_set(shipment_id=given.pk, address=address, now=later).address_at == later

    with pytest.raises(ShipmentNotFound):
        shipment_address_set(shipment_id=10**12, address=address, now=later)


# --- Operators' moves ----------------------------------------------------------------------------------------


def test_ship_deliver_return_by_the_table_and_wrong_states(make_shipment):
    now = timezone.now()
    waiting = make_shipment(ready=False)
    with pytest.raises(ShipmentStateInvalid):
        shipment_transition(shipment_id=waiting.pk, to="shipped", carrier="SF", tracking_number="1", now=now)
    shipment = make_shipment()
    with pytest.raises(ValidationError) as invalid:
        shipment_transition(shipment_id=shipment.pk, to="shipped", carrier=" ", tracking_number="", now=now)
    assert set(invalid.value.message_dict) == {"carrier", "tracking_number"}
    shipped = shipment_transition(shipment_id=shipment.pk, to="shipped", carrier=" 顺丰 ", tracking_number="SF12",
                                  now=now)  # fmt: skip
    assert (shipped.status, shipped.carrier, shipped.tracking_number, shipped.shipped_at) == ("shipped", "顺丰", "SF12",
                                                                                              now)  # fmt: skip
    corrected = shipment_transition(shipment_id=shipment.pk, to="shipped", carrier="顺丰", tracking_number="SF13",
                                    now=now)  # fmt: skip
    assert corrected.tracking_number == "SF13"
    assert shipment_transition(shipment_id=shipment.pk, to="delivered", now=now).delivered_at == now
    with pytest.raises(ShipmentStateInvalid) as refused:
        shipment_transition(shipment_id=shipment.pk, to="delivered", now=now)
    assert refused.value.details == {"status": "delivered", "to": "delivered"}
    assert shipment_transition(shipment_id=shipment.pk, to="returned", now=now).returned_at == now
    with pytest.raises(ShipmentNotFound):
        shipment_transition(shipment_id=10**12, to="delivered", now=now)
    with pytest.raises(ShipmentNotFound):
        shipment_transition(shipment_id=2**70, to="delivered", now=now)
    with pytest.raises(ValueError, match="operators do not move"):
        shipment_transition(shipment_id=shipment.pk, to="expired", now=now)


def test_every_move_the_table_forbids_is_refused(make_shipment):
    """For each operator move and each status it is not allowed from, the service refuses and changes nothing."""
    now = timezone.now()
    examples = {
        "awaiting_address": make_shipment(ready=False),
        "ready": make_shipment(),
        "shipped": make_shipment(),
        "delivered": make_shipment(),
        "returned": make_shipment(),
        "expired": make_shipment(ready=False, deadline=now - timedelta(days=1)),
    }
    for status in ("shipped", "delivered", "returned"):
        shipment_transition(shipment_id=examples[status].pk, to="shipped", carrier="SF", tracking_number="1", now=now)
    shipment_transition(shipment_id=examples["delivered"].pk, to="delivered", now=now)
    shipment_transition(shipment_id=examples["returned"].pk, to="returned", now=now)
    shipments_expire(now=now)
    assert {s: status_of(x) for s, x in examples.items()} == {s: s for s in examples}
    for to in rules.OPERATOR_MOVES:
        for status, shipment in examples.items():
            if rules.can_move(status, to):
                continue
            with pytest.raises(ShipmentStateInvalid):
                shipment_transition(shipment_id=shipment.pk, to=to, carrier="SF", tracking_number="2", now=now)
            assert status_of(shipment) == status


def test_bulk_moves_report_the_wrong_states(make_shipment):
    now = timezone.now()
    shipped, ready = make_shipment(), make_shipment()
    shipment_transition(shipment_id=shipped.pk, to="shipped", carrier="SF", tracking_number="1", now=now)
    result = shipments_transition(shipment_ids=[ready.pk, shipped.pk, 10**12], to="delivered", now=now)
    assert result.changed == 1
    assert [s.pk for s in result.wrong_state] == [ready.pk]
    assert (status_of(shipped), status_of(ready)) == ("delivered", "ready")


# --- The database's own guards -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "lost"},  # not a status
        {"status": "shipped"},  # shipped without carrier and tracking number
        {"status": "delivered", "carrier": "SF", "tracking_number": "1"},  # no shipped_at / delivered_at
        {"status": "ready", "recipient": ""},  # ready without an address
        {"status": "expired"},  # expired without expired_at
        {"owner_kind": "Lottery Prize"},  # not a registered-style kind
        {"idempotency_key": ""},
    ],
)
def test_the_database_refuses_rows_the_rules_forbid(make_shipment, changes):
    shipment = make_shipment()
    with pytest.raises(IntegrityError), transaction.atomic():
        Shipment.objects.filter(pk=shipment.pk).update(**changes)
    assert status_of(shipment) == "ready"


def test_the_same_key_cannot_be_inserted_twice(make_shipment):
    shipment = make_shipment()
    copy = Shipment.objects.get(pk=shipment.pk)
    copy.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


# --- Queue and CSV -------------------------------------------------------------------------------------------


def test_queue_is_what_is_ready_by_source(make_shipment):
    parcel, gift = make_shipment(), make_shipment(kind=GIFT)
    make_shipment(ready=False)
    assert list(shipment_queue()) == [parcel, gift]
    assert list(shipment_queue(owner_kind=GIFT)) == [gift]
    assert shipments_of(owner_kind=PARCEL, owner_ids=[parcel.owner_id, gift.owner_id, 1]) == {parcel.owner_id: parcel}
    assert shipments_of(owner_kind=PARCEL, owner_ids=[]) == {}


def test_csv_round_trip_marks_shipped(make_shipment):
    shipment = make_shipment()
    sheet = shipments_csv(shipment_queue())
    assert sheet.startswith(
        "\ufeffshipment_id,carrier,tracking_number,item,recipient,phone,province,city,district,detail,postal_code,"
        "source,created_at,status\r\n"
    )
    assert (
        f"\r\n{shipment.pk},,,保温杯,王小明,+8613800138000,上海市,上海市,浦东新区,世纪大道 100 号,200120,Test parcel,"
        in sheet
    )
    filled = sheet.replace(f"\n{shipment.pk},,,", f"\n{shipment.pk},顺丰,SF99,")
    result = shipments_ship_csv(text=filled, now=timezone.now())
    assert (result.shipped, result.errors) == (1, [])
    shipment.refresh_from_db()
    assert (shipment.status, shipment.carrier, shipment.tracking_number) == ("shipped", "顺丰", "SF99")


@translation.override("en")
def test_csv_with_any_bad_row_changes_nothing(make_shipment):
    shipment = make_shipment()
    now = timezone.now()
    text = f"shipment_id,carrier,tracking_number\n{shipment.pk},SF,1\n999999,SF,2\nabc,SF,3\n{shipment.pk},SF,4\n"
    result = shipments_ship_csv(text=text, now=now)
    assert result.shipped == 0
    assert result.errors == ["Line 4: “abc” is not a shipment id.", f"Line 5: shipment {shipment.pk} appears twice."]
    result = shipments_ship_csv(text=f"shipment_id,carrier,tracking_number\n{shipment.pk},SF,1\n999999,SF,2\n", now=now)
    assert result.shipped == 0
    assert len(result.errors) == 1
    assert result.errors[0].startswith("Line 3 (shipment 999999): No such shipment.")
    assert status_of(shipment) == "ready"
    assert shipments_ship_csv(text="id,x\n1,2\n", now=now).errors == [
        "Missing columns: shipment_id, carrier, tracking_number"
    ]
    assert shipments_ship_csv(text="shipment_id,carrier,tracking_number\n", now=now).errors == [
        "The file has no shipments."
    ]


def test_csv_cell_guard() -> None:
    assert csv_safe("=1+1") == "'=1+1"
    assert csv_safe("+1+cmd") == "'+1+cmd"
    assert csv_safe("-5") == "'-5"
    assert csv_safe("@x") == "'@x"
    assert csv_safe("\t=x") == "'\t=x"
    assert csv_safe("\r=x") == "'\r=x"
    assert csv_safe("+8613800138000") == "+8613800138000"
    assert csv_safe("王小明 = 1") == "王小明 = 1"
    assert csv_safe(42) == 42


# --- Expiry ---------------------------------------------------------------------------------------------------


def test_expiry_calls_the_owners_hook_once_per_expired_shipment(make_shipment, hooks):
    deadline = timezone.now() + timedelta(days=1)
    parcel = make_shipment(ready=False, deadline=deadline)
    gift = make_shipment(ready=False, deadline=deadline, kind=GIFT)
    claimed = make_shipment(ready=True, deadline=deadline)
    no_deadline = make_shipment(ready=False)
    Shipment.objects.filter(pk=no_deadline.pk).update(claim_deadline=None)

    assert shipments_expire(now=deadline - timedelta(seconds=1)) == []
    after = deadline + timedelta(hours=1)
    assert [s.pk for s in shipments_expire(now=after, owner_kind=GIFT)] == [gift.pk]
    assert [s.pk for s in shipments_expire(now=after)] == [parcel.pk]
    assert shipments_expire(now=after + timedelta(days=30)) == []
    assert hooks.calls == [(GIFT, gift.pk, after), (PARCEL, parcel.pk, after)]
    expired = Shipment.objects.get(pk=parcel.pk)
    assert (expired.status, expired.expired_at) == ("expired", after)
    assert status_of(claimed) == "ready"  # an address was given: it ships, whatever the date
    assert status_of(no_deadline) == "awaiting_address"  # no deadline: it waits


def test_a_failing_hook_leaves_its_shipment_unexpired(make_shipment, hooks):
    deadline = timezone.now() - timedelta(minutes=1)
    refused = make_shipment(ready=False, deadline=deadline)
    fine = make_shipment(ready=False, deadline=deadline)
    hooks.fail_for.add(refused.pk)
    with pytest.raises(RuntimeError):
        shipments_expire(now=timezone.now())
    assert status_of(refused) == "awaiting_address"  # rolled back with the owner's failed reaction
    hooks.fail_for.clear()
    assert {s.pk for s in shipments_expire(now=timezone.now())} == {refused.pk, fine.pk}
    assert sorted(pk for _kind, pk, _now in hooks.calls) == sorted([refused.pk, fine.pk])


def test_shipments_of_unregistered_owners_are_left_alone(make_shipment, hooks):
    waiting = make_shipment(ready=False, deadline=timezone.now() - timedelta(days=1))
    registry.unregister(PARCEL)
    assert shipments_expire(now=timezone.now()) == []
    assert status_of(waiting) == "awaiting_address"
    assert hooks.calls == []


def test_owner_cancels_only_what_has_not_left(make_shipment):
    now = timezone.now()
    waiting, ready, gone = make_shipment(ready=False), make_shipment(), make_shipment()
    shipment_transition(shipment_id=gone.pk, to="shipped", carrier="SF", tracking_number="1", now=now)
    assert shipment_cancel(shipment_id=waiting.pk, now=now).status == "cancelled"
    assert shipment_cancel(shipment_id=ready.pk, now=now).cancelled_at == now
    with pytest.raises(ShipmentStateInvalid):
        shipment_cancel(shipment_id=gone.pk, now=now)
    with pytest.raises(ShipmentStateInvalid):  # cancelling twice is not a move the table allows
        shipment_cancel(shipment_id=waiting.pk, now=now)
    with pytest.raises(ShipmentNotFound):
        shipment_cancel(shipment_id=2**63, now=now)
    assert status_of(gone) == "shipped"


def test_the_owners_move_hook_runs_in_the_moves_transaction(make_shipment, member):
    """on_moved sees every operator move; when it raises, the move is undone with it."""
    seen: list[tuple[int, str]] = []

    def on_moved(shipment: Shipment, status: str, now: datetime) -> None:
        if shipment.tracking_number == "REFUSE":
            raise RuntimeError("owner refused")
        seen.append((shipment.pk, status))

    registry.register("tests.moved", label="moved", on_moved=on_moved)
    try:
        now = timezone.now()
        ok, refused = make_shipment(kind="tests.moved"), make_shipment(kind="tests.moved")
        shipment_transition(shipment_id=ok.pk, to="shipped", carrier="SF", tracking_number="1", now=now)
        shipment_transition(shipment_id=ok.pk, to="delivered", now=now)
        with pytest.raises(RuntimeError):
            shipment_transition(shipment_id=refused.pk, to="shipped", carrier="SF", tracking_number="REFUSE", now=now)
        assert seen == [(ok.pk, "shipped"), (ok.pk, "delivered")]
        assert status_of(refused) == "ready"
    finally:
        registry.unregister("tests.moved")


def test_correcting_the_tracking_number_keeps_the_first_shipping_time(make_shipment):
    """Settlement counts a prize by when it shipped: a correction must not move it into a later period."""
    shipment = make_shipment()
    first = timezone.now()
    shipment_transition(shipment_id=shipment.pk, to="shipped", carrier="SF", tracking_number="1", now=first)
    corrected = shipment_transition(
        shipment_id=shipment.pk, to="shipped", carrier="YTO", tracking_number="2", now=first + timedelta(days=40)
    )
    assert corrected.shipped_at == first
    assert (corrected.carrier, corrected.tracking_number) == ("YTO", "2")
