"""Shipment errors, each with a stable machine code."""

from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, NotFound


class ShipmentNotFound(NotFound):
    code = "shipment_not_found"
    default_message = _("No such shipment.")


class ShipmentStateInvalid(Conflict):
    code = "shipment_state_invalid"
    default_message = _("The shipment is not in a state that allows this.")


class ShipmentKeyConflict(Conflict):
    code = "shipment_key_conflict"
    default_message = _("This idempotency key already created a shipment for another owner or member.")
