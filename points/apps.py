from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "points"
    verbose_name = _("Points")

    def ready(self) -> None:
        # Every app's transfer kinds (<app>/kinds.py) and wallet panels (<app>/wallet.py) register themselves
        # with points.kinds / points.panels when imported; points names no app.
        autodiscover_modules("kinds", "wallet")
