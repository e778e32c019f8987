from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    """Jobs a member waits for, recorded with their effect and relayed to Celery until done (ADR 0008). A leaf app:
    the apps that need it call outbox.services (or the SQL function outbox_add()); it imports none of them."""

    name = "outbox"
    verbose_name = _("Job outbox")
