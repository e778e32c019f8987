from django.utils.translation import gettext_lazy as _

from config.errors import DomainError


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    default_message = _("The phone/email or password is wrong.")


class InvalidToken(DomainError):
    code = "invalid_token"
    status = 401
    default_message = _("The token is invalid, expired or revoked.")


class AccountLocked(DomainError):
    code = "account_locked"
    status = 429
    default_message = _("Too many failed login attempts. Try again later.")
