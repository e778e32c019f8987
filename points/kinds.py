"""Transfer kinds: short slugs registered by the app that owns them, so the ledger knows no product.

A kind says why value moved ("checkin", "spin", "redeem"...). The ledger owns only the generic ones below; every
other app registers its own in `<app>/kinds.py`, which `PointsConfig.ready()` imports for every installed app
(like admin.py), e.g.

    # tasks/kinds.py
    CHECKIN = register("checkin", _("daily check-in"), owner="tasks")

`transfer_post` refuses unregistered kinds (`validation_error`); pages, the admin and the API show `label(slug)`,
translated into the reader's language. Stored slugs are never renamed (transfers are immutable): a slug whose app
was removed still displays, as itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

SLUG = re.compile(r"^[a-z][a-z0-9_]{0,23}$")  # fits Transfer.kind (max_length 24)


@dataclass(frozen=True)
class Kind:
    slug: str
    label: Any  # a lazy translation
    owner: str  # the app that registered it


_registry: dict[str, Kind] = {}


def register(slug: str, label: Any, *, owner: str) -> str:
    """Register a kind; returns the slug (so owners keep it as a constant). Registering the same slug again for
    the same owner is a no-op; a slug taken by another app is a configuration error."""
    if not SLUG.match(slug):
        raise ImproperlyConfigured(f"transfer kind {slug!r}: lower-case letters, digits and _, at most 24")
    existing = _registry.get(slug)
    if existing is not None and existing.owner != owner:
        raise ImproperlyConfigured(f"transfer kind {slug!r} is already registered by {existing.owner}")
    if existing is None:
        _registry[slug] = Kind(slug, label, owner)
    return slug


def is_registered(slug: object) -> bool:
    return isinstance(slug, str) and slug in _registry


def label(slug: str) -> str:
    """The kind's label in the current language (the slug itself if no installed app registers it)."""
    kind = _registry.get(slug)
    return str(kind.label) if kind is not None else slug


def choices() -> list[tuple[str, Any]]:
    """(slug, lazy label) for every registered kind, in registration order (for filters and forms)."""
    return [(kind.slug, kind.label) for kind in _registry.values()]


def registered() -> list[Kind]:
    return list(_registry.values())


# The ledger's own, product-neutral kinds.
EARN = register("earn", _("earned"), owner="points")
SPEND = register("spend", _("spent"), owner="points")
AWARD = register("award", _("bulk award"), owner="points")
ADJUST = register("adjust", _("manual adjustment"), owner="points")
REVERSAL = register("reversal", _("reversal"), owner="points")
EXPIRE = register("expire", _("expired"), owner="points")
HOLD = register("hold", _("held"), owner="points")
CAPTURE = register("capture", _("hold captured"), owner="points")
VOID = register("void", _("hold released"), owner="points")
