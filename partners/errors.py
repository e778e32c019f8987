from django.utils.translation import gettext_lazy as _

from config.errors import DomainError


class PartnerAuthError(DomainError):
    """A partner request could not be authenticated (401)."""

    status = 401


class InvalidApiKey(PartnerAuthError):
    code = "invalid_api_key"
    default_message = _("Unknown or revoked API key.")


class InvalidSignature(PartnerAuthError):
    code = "invalid_signature"
    default_message = _("The request signature is missing or does not match.")


class StaleTimestamp(PartnerAuthError):
    code = "stale_timestamp"
    default_message = _("The request timestamp is more than five minutes away from the server time.")
