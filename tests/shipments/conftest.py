"""Fixtures for shipments on their own: registered test owner kinds whose expiry hooks record what they saw, and
shipments made through the service (ready with an address, or still waiting for one). No owning app involved."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Address, User
from accounts.services import address_save
from shipments import registry
from shipments.models import Shipment
from shipments.services import shipment_address_set, shipment_create
from tests.data import ADDRESS

PARCEL = "tests.parcel"
GIFT = "tests.gift"


@dataclass
class Hooks:
    """What the owners' expiry hooks were called with: (owner kind, shipment id, now)."""

    calls: list[tuple[str, int, datetime]] = field(default_factory=list)
    fail_for: set[int] = field(default_factory=set)  # shipment ids whose hook raises

    def hook(self, kind: str) -> Callable[[Shipment, datetime], None]:
        def on_expired(shipment: Shipment, now: datetime) -> None:
            if shipment.pk in self.fail_for:
                raise RuntimeError("owner refused")
            self.calls.append((kind, shipment.pk, now))

        return on_expired


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    """Two test owner kinds, registered for the test only."""
    recorded = Hooks()
    registry.register(PARCEL, label="Test parcel", on_expired=recorded.hook(PARCEL))
    registry.register(GIFT, label="Test gift", on_expired=recorded.hook(GIFT))
    yield recorded
    registry.unregister(PARCEL)
    registry.unregister(GIFT)


@pytest.fixture
def address(member: User) -> Address:
    return address_save(user=member, data=ADDRESS)


@pytest.fixture
def make_shipment(hooks: Hooks, member: User, address: Address) -> Callable[..., Shipment]:
    """make_shipment(ready=True, kind=PARCEL, deadline=in 7 days, **fields) -> a shipment of `member`, with the
    member's address when ready."""
    counter = iter(range(1, 10**6))

    def make(*, ready: bool = True, kind: str = PARCEL, deadline: datetime | None = None, **fields: Any) -> Shipment:
        n = next(counter)
        now = timezone.now()
        shipment = shipment_create(
            owner_kind=kind,
            owner_id=1000 + n,
            key=f"parcel:{n}",
            member_id=fields.pop("member_id", address.user_id),
            item_name=fields.pop("item_name", "保温杯"),
            item_name_en=fields.pop("item_name_en", "Thermos"),
            claim_deadline=deadline or now + timedelta(days=7),
            now=now,
        )
        if ready:
            shipment = shipment_address_set(shipment_id=shipment.pk, address=address, now=now)
        return shipment

    return make
