"""Mall errors, each with a stable machine code (the API's error code)."""

from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, DomainError, IdempotencyKeyInvalid, NotFound


class ProductNotFound(NotFound):
    code = "product_not_found"
    default_message = _("No such product.")


class OrderNotFound(NotFound):
    code = "order_not_found"
    default_message = _("No such order.")


class NotAvailable(DomainError):
    code = "not_available"
    status = 422
    default_message = _("This item is not on sale now.")


class OutOfStock(Conflict):
    code = "out_of_stock"
    default_message = _("Sorry, this item is sold out.")


class PoolEmpty(Conflict):
    code = "out_of_stock"
    default_message = _("Sorry, this item's codes have run out.")


class LimitReached(DomainError):
    code = "limit_reached"
    status = 422
    default_message = _("You have redeemed as many of this item as one member may.")


class MethodInvalid(DomainError):
    code = "delivery_method_invalid"
    status = 400
    default_message = _("Choose how you want to receive this item: shipping or store pickup, as it offers.")


class AddressRequired(DomainError):
    code = "address_required"
    status = 400
    default_message = _("Choose one of your saved addresses for shipping.")


class NotCancellable(Conflict):
    code = "not_cancellable"
    default_message = _("This order can no longer be cancelled.")


class InvalidOrderKey(IdempotencyKeyInvalid):
    default_message = _("The request key must be 1-100 printable characters.")


class PickupCodeInvalid(DomainError):
    code = "pickup_code_invalid"
    status = 404
    default_message = _("No order is waiting for this pickup code.")


class PickupAlreadyDone(Conflict):
    code = "pickup_already_done"
    default_message = _("This pickup code has already been used.")


class NoCode(NotFound):
    code = "code_not_found"
    default_message = _("This order has no code.")


class StockNegative(Conflict):
    code = "stock_negative"
    default_message = _("Stock cannot fall below zero.")


# --- Supplier settlement (mall/settlement.py) ---


class SupplierNotFound(NotFound):
    code = "supplier_not_found"
    default_message = _("No such supplier.")


class StatementNotFound(NotFound):
    code = "statement_not_found"
    default_message = _("No such supplier statement.")


class PeriodInvalid(DomainError):
    code = "period_invalid"
    status = 400
    default_message = _("A period runs from its first day to its last day (inclusive), at most a year.")


class StatementAlreadySettled(Conflict):
    code = "statement_already_settled"
    default_message = _("This statement has already been settled.")


class StatementSettledDiffers(Conflict):
    code = "statement_settled_differs"
    default_message = _(
        "This period's statement is settled, but the figures have changed since. The settled statement was kept "
        "as it is; check what changed."
    )


class StatementPeriodOpen(DomainError):
    code = "statement_period_open"
    status = 422
    default_message = _("The period has not ended yet: a statement can be settled only after its last day.")


class StatementStale(Conflict):
    code = "statement_stale"
    default_message = _("This statement was generated before its period ended. Generate it again, then settle it.")


class AddressClosed(Conflict):
    code = "address_closed"
    default_message = _("The address of this order can no longer be changed.")
