"""A shipment: goods going to a member by post. It knows what it ships (the item's name in both languages), to
whom, where (a copy of the address, so later edits of the address book do not move it) and how far it got. Its
owner (a wheel prize, a mall order…) is known only by `owner_kind` + `owner_id`; the status moves by the one
table in shipments/rules.py, whose REQUIRES the database enforces here."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import AddressFields
from config.i18n import localized
from shipments import rules
from shipments.rules import ShipmentStatus

# The columns whose values rules.REQUIRES may ask for, by type.
_TEXT_FIELDS = frozenset({"recipient", "carrier", "tracking_number"})


def _has(field: str) -> Q:
    return ~Q(**{field: ""}) if field in _TEXT_FIELDS else Q(**{f"{field}__isnull": False})


def _status_requires(status: str, fields: tuple[str, ...]) -> models.CheckConstraint:
    """CHECK: a row in `status` has every one of `fields`."""
    required = Q()
    for field in fields:
        required &= _has(field)
    return models.CheckConstraint(condition=~Q(status=status) | required, name=f"shipment_{status}_complete")


class Shipment(AddressFields):
    owner_kind = models.CharField(
        _("source"), max_length=40, help_text=_("What the shipment is for, e.g. lottery.prize (a prize wheel win).")
    )
    owner_id = models.BigIntegerField(_("source id"))
    idempotency_key = models.CharField(
        _("idempotency key"),
        max_length=120,
        help_text=_("Unique per source: creating the same shipment twice returns the first one."),
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shipments", verbose_name=_("member")
    )
    item_name = models.CharField(_("item"), max_length=120)
    item_name_en = models.CharField(_("item (English)"), max_length=120, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.AWAITING_ADDRESS
    )
    claim_deadline = models.DateTimeField(
        _("claim by"), null=True, blank=True, help_text=_("Without an address by then it expires (blank: never).")
    )
    carrier = models.CharField(_("carrier"), max_length=40, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=40, blank=True)
    address_at = models.DateTimeField(_("address given"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    expired_at = models.DateTimeField(_("expired"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ("created_at", "id")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["owner_kind", "idempotency_key"], name="shipment_key_once"),
            models.CheckConstraint(condition=Q(status__in=ShipmentStatus.values), name="shipment_status_known"),
            models.CheckConstraint(
                condition=Q(owner_kind__regex=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"), name="shipment_owner_kind"
            ),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="shipment_has_key"),
            *(_status_requires(status, fields) for status, fields in rules.REQUIRES.items() if fields),
        ]
        indexes: ClassVar = [
            models.Index(fields=["status", "claim_deadline"], name="shipment_queue_idx"),
            models.Index(fields=["owner_kind", "owner_id"], name="shipment_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.item_name} → {self.member_id} ({self.status})"

    @property
    def item_display(self) -> str:
        """The item's name in the reader's language."""
        return localized(self, "item_name")
