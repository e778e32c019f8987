"""Who ships things. An owning app registers its owner kind once, in its AppConfig.ready():

    registry.register("lottery.prize", label=_("prize wheel"), on_expired=prize_shipment_expired)

A shipment knows its owner only by that kind and an id (`Shipment.owner_kind`, `owner_id`); shipments imports no
owning app. `on_expired(shipment, now)` is called by services.shipments_expire inside the transaction that expires
the shipment, so the owner's reaction (a wheel returns the unit to stock) happens exactly once with it, or not at
all. No signals: the one hook is this explicit callback."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipments.models import Shipment

# "<app>.<thing>": lower-case words joined by dots, at most 40 characters (Shipment.owner_kind).
OWNER_KIND = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
OWNER_KIND_MAX = 40

ExpiredHook = Callable[["Shipment", datetime], None]
MovedHook = Callable[["Shipment", str, datetime], None]


@dataclass(frozen=True)
class Owner:
    kind: str
    label: Any  # lazy translated text: the admin's "source" filter and the CSV's source column
    on_expired: ExpiredHook | None
    on_moved: MovedHook | None = None


_OWNERS: dict[str, Owner] = {}


def register(
    kind: str, *, label: Any, on_expired: ExpiredHook | None = None, on_moved: MovedHook | None = None
) -> Owner:
    """Declare an owner kind. Registering the same kind again replaces it (tests, autoreload). `on_moved(shipment,
    status, now)` is called in the transaction of every operator move (shipped, delivered, returned): the mall
    captures an order's held points when its goods ship."""
    if len(kind) > OWNER_KIND_MAX or not OWNER_KIND.fullmatch(kind):
        raise ValueError(f"owner kind {kind!r} is not '<app>.<thing>' in lower case (at most {OWNER_KIND_MAX})")
    owner = Owner(kind, label, on_expired, on_moved)
    _OWNERS[kind] = owner
    return owner


def unregister(kind: str) -> None:
    _OWNERS.pop(kind, None)


def owner(kind: str) -> Owner | None:
    return _OWNERS.get(kind)


def owners() -> list[Owner]:
    """Every registered owner kind, sorted by kind."""
    return [_OWNERS[kind] for kind in sorted(_OWNERS)]


def label_of(kind: str) -> str:
    """The owner's name for people (the bare kind if nobody registered it)."""
    found = _OWNERS.get(kind)
    return str(found.label) if found is not None else kind
