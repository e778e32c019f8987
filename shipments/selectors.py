"""Reads of shipments shared by owners' pages and APIs, the admin queue and the logistics company's CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q, QuerySet

from accounts.models import ADDRESS_FIELDS
from shipments import registry
from shipments.models import Shipment
from shipments.rules import TRANSITIONS, ShipmentStatus


def shipment_address_open(*, shipment: Shipment, now: datetime) -> bool:
    """Whether the member may still give or change the address: while the table lets the shipment become ready
    (until it ships) and, without an address yet, until the claim deadline. services.shipment_address_set enforces
    the same rule (address_open_q); owners' pages and APIs show their button by this one."""
    if shipment.status not in TRANSITIONS[ShipmentStatus.READY].sources:
        return False
    deadline = shipment.claim_deadline
    return shipment.status != ShipmentStatus.AWAITING_ADDRESS or deadline is None or deadline > now


def address_open_q(*, now: datetime) -> Q:
    """shipment_address_open as a query condition (for the conditional UPDATE that sets an address)."""
    return Q(status__in=TRANSITIONS[ShipmentStatus.READY].sources) & ~Q(
        status=ShipmentStatus.AWAITING_ADDRESS, claim_deadline__lte=now
    )


def shipments_of(*, owner_kind: str, owner_ids: Iterable[int]) -> dict[int, Shipment]:
    """The shipment of each of these owners (by owner id), for owners with one shipment each (a wheel's draws)."""
    ids = list(owner_ids)
    if not ids:
        return {}
    found = Shipment.objects.filter(owner_kind=owner_kind, owner_id__in=ids).order_by("id")
    return {shipment.owner_id: shipment for shipment in found}


def shipment_queue(*, owner_kind: str | None = None) -> QuerySet[Shipment]:
    """What operators still have to send (an address is known, not shipped yet), oldest first."""
    queue = Shipment.objects.filter(status=ShipmentStatus.READY)
    if owner_kind:
        queue = queue.filter(owner_kind=owner_kind)
    return queue.order_by("created_at", "id")


# The logistics company's sheet. The import reads shipment_id, carrier and tracking_number back.
EXPORT_COLUMNS = (
    "shipment_id",
    "carrier",
    "tracking_number",
    "item",
    *ADDRESS_FIELDS,
    "source",
    "created_at",
    "status",
)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
E164_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")


def csv_safe(value: object) -> object:
    """A text cell a spreadsheet could run as a formula (=, +, -, @, tab, CR first) gets a leading apostrophe,
    so Excel shows it as text (CSV/formula injection: members type their own recipient and address). A plain
    E.164 phone number (+ and digits only, as address_save stores it) cannot carry a formula and stays as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not E164_PHONE.fullmatch(value):
        return "'" + value
    return value


def shipments_csv(shipments: Iterable[Shipment]) -> str:
    """The logistics company's sheet (UTF-8 with BOM, so Excel opens Chinese text correctly). `carrier` and
    `tracking_number` are left for them to fill in; the same file comes back through the import (bulk
    "shipped"). Text cells are guarded against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for s in shipments:
        row = [
            s.pk,
            s.carrier,
            s.tracking_number,
            s.item_name,
            *(getattr(s, field) for field in ADDRESS_FIELDS),
            registry.label_of(s.owner_kind),
            s.created_at.isoformat(),
            s.status,
        ]
        writer.writerow([csv_safe(cell) for cell in row])
    return "\ufeff" + out.getvalue()
