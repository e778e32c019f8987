"""Every write of a shipment: creation (idempotent, by the owner), the member's address, the operators' moves
(one by one, in bulk, or from the logistics company's CSV) and expiry. Every move is a conditional UPDATE on
the statuses shipments/rules.py allows it from, so races are decided by the database."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.models import AddressFields
from shipments import registry
from shipments.errors import ShipmentKeyConflict, ShipmentNotFound, ShipmentStateInvalid
from shipments.models import Shipment
from shipments.rules import OPERATOR_MOVES, TRANSITIONS, ShipmentStatus
from shipments.selectors import address_open_q

logger = logging.getLogger(__name__)

MAX_ID = 2**63


def shipment_create(
    *,
    owner_kind: str,
    owner_id: int,
    key: str,
    member_id: int,
    item_name: str,
    item_name_en: str = "",
    claim_deadline: datetime | None = None,
    now: datetime,
) -> Shipment:
    """A new shipment waiting for the member's address (SQL shipment_create(), which SQL owners call too). The
    same `key` of the same owner kind returns the first shipment; reused for another owner or member it raises
    ShipmentKeyConflict. `claim_deadline`: without an address by then it expires (None: never)."""
    if registry.owner(owner_kind) is None:
        raise ValueError(f"owner kind {owner_kind!r} is not registered (shipments.registry.register)")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT shipment_create(%s, %s, %s, %s, %s, %s, %s, %s)",
                [owner_kind, owner_id, key, member_id, item_name, item_name_en, claim_deadline, now],
            )
            row = cursor.fetchone()
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == "SH001":
            raise ShipmentKeyConflict(details={"owner_kind": owner_kind, "key": key}) from exc
        raise
    assert row is not None
    return Shipment.objects.get(pk=row[0])


def _locked(shipment_id: int) -> Shipment:
    found = Shipment.objects.select_for_update().filter(pk=shipment_id).first() if 0 < shipment_id < MAX_ID else None
    if found is None:
        raise ShipmentNotFound()
    return found


def shipment_address_set(*, shipment_id: int, address: AddressFields, now: datetime) -> Shipment:
    """Copy a (validated) address onto the shipment: it becomes ready to ship. Allowed while
    selectors.shipment_address_open says so; otherwise ShipmentStateInvalid. The owner decides whose shipment it
    is and validates the address (accounts.services.address_save) before calling this."""
    values = address.address_values()
    updated = Shipment.objects.filter(address_open_q(now=now), pk=shipment_id).update(
        **values, status=ShipmentStatus.READY, **{TRANSITIONS[ShipmentStatus.READY].stamp: now}
    )
    if not updated:
        current = Shipment.objects.filter(pk=shipment_id).values_list("status", flat=True).first()
        if current is None:
            raise ShipmentNotFound()
        raise ShipmentStateInvalid(details={"status": current, "to": ShipmentStatus.READY})
    return Shipment.objects.get(pk=shipment_id)


def _tracking(carrier: str, tracking_number: str) -> dict[str, str]:
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    errors = {}
    if not carrier or len(carrier) > 40:
        errors["carrier"] = [_("Give the carrier (at most 40 characters).")]
    if not tracking_number or len(tracking_number) > 40 or not tracking_number.isprintable():
        errors["tracking_number"] = [_("Give the tracking number (at most 40 characters).")]
    if errors:
        raise ValidationError(errors)
    return {"carrier": carrier, "tracking_number": tracking_number}


def shipment_transition(
    *, shipment_id: int, to: str, carrier: str = "", tracking_number: str = "", now: datetime
) -> Shipment:
    """An operator moves a shipment on by the table in rules.py: ready → shipped (carrier + tracking number;
    shipping again corrects them, keeping the first shipping time, which settlement counts by) → delivered, or
    shipped/delivered → returned. A conditional UPDATE on the current status decides races; a shipment in another
    state raises ShipmentStateInvalid."""
    if to not in OPERATOR_MOVES:
        raise ValueError(f"operators do not move shipments to {to!r}")
    stamp = TRANSITIONS[to].stamp
    changes: dict[str, Any] = {
        "status": to,
        stamp: Coalesce(stamp, Value(now)) if to == ShipmentStatus.SHIPPED else now,
    }
    if to == ShipmentStatus.SHIPPED:
        changes.update(_tracking(carrier, tracking_number))
    return _move(shipment_id=shipment_id, to=to, changes=changes, now=now)


def _move(*, shipment_id: int, to: str, changes: dict[str, Any], now: datetime) -> Shipment:
    """The conditional UPDATE of a move and its owner's on_moved hook, in one transaction."""
    transition = TRANSITIONS[to]
    found = 0 < shipment_id < MAX_ID
    with transaction.atomic():
        updated = found and Shipment.objects.filter(pk=shipment_id, status__in=transition.sources).update(**changes)
        if not updated:
            current = (
                Shipment.objects.filter(pk=shipment_id).values_list("status", flat=True).first() if found else None
            )
            if current is None:
                raise ShipmentNotFound()
            raise ShipmentStateInvalid(details={"status": current, "to": to})
        shipment = Shipment.objects.get(pk=shipment_id)
        owner = registry.owner(shipment.owner_kind)
        if owner is not None and owner.on_moved is not None:
            owner.on_moved(shipment, to, now)
    return shipment


def shipment_cancel(*, shipment_id: int, now: datetime) -> Shipment:
    """The owner cancels a shipment that has not left (waiting for an address or ready); one that has shipped
    raises ShipmentStateInvalid. The owner's on_moved hook is not called: the owner is the caller."""
    transition = TRANSITIONS[ShipmentStatus.CANCELLED]
    found = 0 < shipment_id < MAX_ID
    updated = found and Shipment.objects.filter(pk=shipment_id, status__in=transition.sources).update(
        status=ShipmentStatus.CANCELLED, cancelled_at=now
    )
    if not updated:
        current = Shipment.objects.filter(pk=shipment_id).values_list("status", flat=True).first() if found else None
        if current is None:
            raise ShipmentNotFound()
        raise ShipmentStateInvalid(details={"status": current, "to": ShipmentStatus.CANCELLED})
    return Shipment.objects.get(pk=shipment_id)


@dataclass(frozen=True)
class BulkTransition:
    changed: int
    wrong_state: list[Shipment]


def shipments_transition(*, shipment_ids: Iterable[int], to: str, now: datetime) -> BulkTransition:
    """Move many shipments on (operators' "mark delivered / returned"); those in another state stay as they are
    and are reported back."""
    changed, wrong = 0, []
    for shipment_id in sorted(shipment_ids):
        try:
            shipment_transition(shipment_id=shipment_id, to=to, now=now)
        except ShipmentStateInvalid:
            wrong.append(Shipment.objects.get(pk=shipment_id))
        except ShipmentNotFound:
            continue
        else:
            changed += 1
    return BulkTransition(changed, wrong)


@dataclass(frozen=True)
class ShipmentImport:
    shipped: int
    errors: list[str]


IMPORT_COLUMNS = ("shipment_id", "carrier", "tracking_number")


class _RollBack(Exception):
    pass


def _import_plan(text: str) -> tuple[list[tuple[int, str, str]], list[str]]:
    """The rows of an import sheet as (shipment id, carrier, tracking number), or the errors of its syntax."""
    reader = csv.DictReader(io.StringIO((text or "").lstrip("\ufeff")))
    missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [_("Missing columns: %(cols)s") % {"cols": ", ".join(missing)}]
    errors: list[str] = []
    seen: set[int] = set()
    planned: list[tuple[int, str, str]] = []
    for line, row in enumerate(reader, start=2):
        raw_id = (row.get("shipment_id") or "").strip()
        if not raw_id.isdigit() or not 0 < int(raw_id) < MAX_ID:
            errors.append(_("Line %(line)d: “%(id)s” is not a shipment id.") % {"line": line, "id": raw_id[:20]})
            continue
        if int(raw_id) in seen:
            errors.append(_("Line %(line)d: shipment %(id)s appears twice.") % {"line": line, "id": raw_id})
            continue
        seen.add(int(raw_id))
        planned.append((int(raw_id), row.get("carrier") or "", row.get("tracking_number") or ""))
    if not planned and not errors:
        errors.append(_("The file has no shipments."))
    return planned, errors


def shipments_ship_csv(*, text: str, now: datetime) -> ShipmentImport:
    """Bulk "shipped" from the logistics company's CSV (columns shipment_id, carrier, tracking_number; the
    export's other columns are ignored). All or nothing: any bad row and no shipment changes."""
    planned, errors = _import_plan(text)
    if errors:
        return ShipmentImport(0, errors)
    try:
        with transaction.atomic():
            for line, (shipment_id, carrier, tracking) in enumerate(planned, start=2):
                try:
                    shipment_transition(
                        shipment_id=shipment_id,
                        to=ShipmentStatus.SHIPPED,
                        carrier=carrier,
                        tracking_number=tracking,
                        now=now,
                    )
                except (ValidationError, ShipmentNotFound, ShipmentStateInvalid) as exc:
                    message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc.message)
                    errors.append(
                        _("Line %(line)d (shipment %(id)d): %(problem)s")
                        % {"line": line, "id": shipment_id, "problem": message}
                    )
            if errors:
                raise _RollBack()
    except _RollBack:
        return ShipmentImport(0, errors)
    return ShipmentImport(len(planned), [])


def shipments_expire(*, now: datetime, owner_kind: str | None = None, limit: int = 1000) -> list[Shipment]:
    """Shipments still without an address after their claim deadline expire, each in its own transaction
    together with its owner's reaction (registry on_expired, e.g. the wheel returns the unit to stock), so a
    reaction happens exactly once per expired shipment. Shipments of owner kinds nobody registered are left
    alone. Safe to run twice or concurrently (conditional update per shipment). Returns what expired."""
    kinds = [owner.kind for owner in registry.owners()]
    if owner_kind is not None:
        kinds = [kind for kind in kinds if kind == owner_kind]
    expiry = TRANSITIONS[ShipmentStatus.EXPIRED]
    due = Shipment.objects.filter(status__in=expiry.sources, claim_deadline__lte=now, owner_kind__in=kinds)
    expired = []
    for shipment_id in due.order_by("claim_deadline", "id").values_list("id", flat=True)[:limit]:
        with transaction.atomic():
            done = Shipment.objects.filter(pk=shipment_id, status__in=expiry.sources, claim_deadline__lte=now).update(
                status=ShipmentStatus.EXPIRED, **{expiry.stamp: now}
            )
            if not done:
                continue  # an address came in, or a parallel run expired it first
            shipment = Shipment.objects.get(pk=shipment_id)
            owner = registry.owner(shipment.owner_kind)
            if owner is not None and owner.on_expired is not None:
                owner.on_expired(shipment, now)
        expired.append(shipment)
    if expired:
        logger.info("%d shipments expired", len(expired))
    return expired
