from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from config.config_cache import config_tracks


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from campaigns.models import Campaign  # noqa: PLC0415 - models load once the registry is ready

        # the configuration cache (config/config_cache.py) reloads when these change
        config_tracks(Campaign)
