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
