"""The prize wheel as an owner of shipments: a physical prize ships as owner kind PRIZE_SHIPMENT (owner id = the
draw), and when it expires unclaimed the unit goes back into stock. Imported by ShipmentsConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from lottery.models import PRIZE_SHIPMENT
from lottery.services import prize_shipment_expired
from shipments import registry

registry.register(PRIZE_SHIPMENT, label=_("Prize wheel"), on_expired=prize_shipment_expired)
