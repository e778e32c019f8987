"""The rules of a shipment's life, in one place: its statuses, the one transition table (which status may follow
which, and the timestamp each move records), and what a row in each status must hold. Services move shipments by
this table, the database enforces REQUIRES (CHECK constraints generated from it in models.py), and the admin
offers what the table allows. Pure: no models, no queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class ShipmentStatus(models.TextChoices):
    AWAITING_ADDRESS = "awaiting_address", _("waiting for an address")
    READY = "ready", _("ready to ship")
    SHIPPED = "shipped", _("shipped")
    DELIVERED = "delivered", _("delivered")
    RETURNED = "returned", _("returned")
    EXPIRED = "expired", _("expired (unclaimed)")
    CANCELLED = "cancelled", _("cancelled")


S = ShipmentStatus


@dataclass(frozen=True)
class Transition:
    sources: tuple[str, ...]  # the statuses this move is allowed from
    stamp: str  # the timestamp field the move sets


# to status -> (allowed from, timestamp). awaiting_address is only ever the first status.
TRANSITIONS: dict[str, Transition] = {
    # The member gives an address, or changes it until the shipment leaves (a deadline may close it earlier).
    S.READY: Transition((S.AWAITING_ADDRESS, S.READY), "address_at"),
    # Operators ship it with carrier and tracking number; shipping again corrects them.
    S.SHIPPED: Transition((S.READY, S.SHIPPED), "shipped_at"),
    S.DELIVERED: Transition((S.SHIPPED,), "delivered_at"),
    S.RETURNED: Transition((S.SHIPPED, S.DELIVERED), "returned_at"),
    # Nobody gave an address by the claim deadline (the expiry job; the owner reacts, e.g. returns stock).
    S.EXPIRED: Transition((S.AWAITING_ADDRESS,), "expired_at"),
    # The owner cancels before it leaves (a mall order cancelled by the member or an operator).
    S.CANCELLED: Transition((S.AWAITING_ADDRESS, S.READY), "cancelled_at"),
}

# What a row in each status must hold (non-empty text, non-null time); models.py turns this into CHECK constraints.
REQUIRES: dict[str, tuple[str, ...]] = {
    S.AWAITING_ADDRESS: (),
    S.READY: ("recipient", "address_at"),
    S.SHIPPED: ("recipient", "address_at", "carrier", "tracking_number", "shipped_at"),
    S.DELIVERED: ("recipient", "address_at", "carrier", "tracking_number", "shipped_at", "delivered_at"),
    S.RETURNED: ("recipient", "address_at", "carrier", "tracking_number", "shipped_at", "returned_at"),
    S.EXPIRED: ("expired_at",),
    S.CANCELLED: ("cancelled_at",),
}

# The moves operators make in the admin (the others belong to the member and to the expiry job).
OPERATOR_MOVES = (S.SHIPPED, S.DELIVERED, S.RETURNED)


def can_move(current: str, to: str) -> bool:
    """Whether a shipment in `current` may move to `to`."""
    transition = TRANSITIONS.get(to)
    return transition is not None and current in transition.sources


def next_statuses(current: str) -> list[str]:
    """Every status a shipment in `current` may move to, in table order."""
    return [to for to, transition in TRANSITIONS.items() if current in transition.sources and to != current]
