from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from config.config_cache import config_tracks


class LotteryConfig(AppConfig):
    name = "lottery"
    verbose_name = _("Lottery")

    def ready(self) -> None:
        from lottery.models import Prize, Wheel  # noqa: PLC0415 - models load once the registry is ready

        # the configuration cache (config/config_cache.py) reloads when these change
        config_tracks(Wheel, Prize)
