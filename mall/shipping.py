"""The mall as an owner of shipments: goods to ship are a shipment of owner kind ORDER_SHIPMENT (owner id = the
order); when an operator ships them the order's held points are captured, when they come back the order is
refunded. Imported by ShipmentsConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from mall.orders import ORDER_SHIPMENT, order_shipment_moved
from shipments import registry

registry.register(ORDER_SHIPMENT, label=_("Points mall"), on_moved=order_shipment_moved)
