from django.utils.translation import gettext_lazy as _

from config.errors import DomainError, NotFound


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    default_message = _("No such campaign.")


class CampaignNotActive(DomainError):
    code = "campaign_not_active"
    status = 422
    default_message = _("This activity is only open during the campaign's official phase.")
