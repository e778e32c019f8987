from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied


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


# --- The partner programme -------------------------------------------------------------------------------------


class PartnerNotFound(NotFound):
    code = "partner_not_found"
    default_message = _("No such partner.")


class StatementNotFound(NotFound):
    code = "statement_not_found"
    default_message = _("No such statement.")


class SaleInvalid(InvalidInput):
    """A sale line that cannot be booked as given (details name the field)."""

    code = "sale_invalid"
    default_message = _("This sale line is not valid.")


class CurrencyMismatch(SaleInvalid):
    code = "currency_mismatch"
    default_message = _("Sales are booked in CNY only.")


class SaleConflict(Conflict):
    code = "sale_conflict"
    default_message = _("This order id was already booked with other content.")


class OriginalSaleNotFound(DomainError):
    code = "original_sale_not_found"
    default_message = _("The return names a sale this partner has not booked.")


class ReturnExceedsSale(DomainError):
    code = "return_exceeds_sale"
    default_message = _("The return is larger than what is left of its sale.")


class SalesNotAllowed(PermissionDenied):
    code = "sales_not_allowed"
    default_message = _("This key may not report sales for this partner.")


class MonthNotEnded(DomainError):
    code = "month_not_ended"
    default_message = _("A statement is issued only after its month has ended.")


class NothingToPay(DomainError):
    code = "nothing_to_pay"
    default_message = _("Nothing is payable on this statement; the balance carries to the next one.")


class StatementSuperseded(Conflict):
    code = "statement_superseded"
    default_message = _("A later statement includes this balance; pay the latest statement.")


class ScheduleInvalid(InvalidInput):
    code = "schedule_invalid"
    default_message = _("Rebate bands must start at 0 and have distinct lower bounds.")


class InvalidSalesBatch(DomainError):
    code = "invalid_batch"
    status = 400
    default_message = _('Send one sale object or {"sales": [...]} with at least one sale.')


class TooManySales(DomainError):
    code = "too_many_sales"
    status = 413
    default_message = _("Send at most 500 sales per request.")
