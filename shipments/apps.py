from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class ShipmentsConfig(AppConfig):
    """Goods leaving the warehouse for a member, whatever they came from (a wheel prize today, a mall order
    tomorrow). A leaf app: it depends on accounts only; the apps that ship things depend on it (ADR 0005)."""

    name = "shipments"
    verbose_name = _("Shipments")

    def ready(self) -> None:
        # Every owning app declares its owner kind in <app>/shipping.py (shipments.registry.register); importing
        # those modules here registers them without shipments naming any app.
        autodiscover_modules("shipping")
