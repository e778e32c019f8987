from django.utils.translation import gettext_lazy as _

from config.errors import DomainError, NotFound, PermissionDenied


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


class AddressNotFound(NotFound):
    """Not in the member's address book (someone else's address looks the same: it does not exist for them)."""

    code = "address_not_found"
    default_message = _("No such address in your address book.")


class StaffBoundary(PermissionDenied):
    """Only a superuser may change staff accounts, or anyone's staff/superuser flags, groups or permissions."""

    code = "staff_boundary"
    default_message = _("Only a superuser may change staff accounts, privileges or staff passwords.")
