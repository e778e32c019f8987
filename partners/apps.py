from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts import panels


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = _("Partners")

    def ready(self) -> None:
        from partners.profile import portal_link  # noqa: PLC0415 — it uses models, loaded once apps are ready

        # A partner user's profile links to their partner portal.
        panels.register(portal_link)
