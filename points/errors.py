from django.utils.translation import gettext_lazy as _

from config.errors import DomainError


class LedgerError(DomainError):
    code = "ledger_error"


class InvalidAmount(LedgerError):
    code = "invalid_amount"
    status = 400
    default_message = _("The amount must be a positive whole number.")


class IdempotencyConflict(LedgerError):
    code = "idempotency_conflict"
    status = 409
    default_message = _("This idempotency key was already used for a different posting.")


class AccountNotFound(LedgerError):
    code = "account_not_found"
    status = 404
    default_message = _("The ledger account does not exist.")


class AssetMismatch(LedgerError):
    code = "asset_mismatch"
    status = 400
    default_message = _("The accounts and the transfer must use the same asset.")


class InsufficientPoints(LedgerError):
    code = "insufficient_points"
    status = 422
    default_message = _("Not enough points.")


class SameAccount(LedgerError):
    code = "same_account"
    status = 400
    default_message = _("A transfer needs two different accounts.")


class BatchNeedsSystemDebit(LedgerError):
    code = "batch_debit_not_system"
    status = 400
    default_message = _("Batch postings can only debit system accounts.")


class AlreadyReversed(LedgerError):
    code = "already_reversed"
    status = 409
    default_message = _("This transfer has already been reversed.")


class NotReversible(LedgerError):
    code = "not_reversible"
    status = 422
    default_message = _("This transfer cannot be reversed directly.")


class SelfAdjustment(LedgerError):
    code = "self_adjustment"
    status = 403
    default_message = _("Staff cannot adjust their own points; ask another operator.")


class ReasonRequired(LedgerError):
    code = "reason_required"
    status = 400
    default_message = _("A reason is required.")


class HoldNotPending(LedgerError):
    code = "hold_not_pending"
    status = 409
    default_message = _("The hold has already been settled.")


class InvalidInput(LedgerError):
    code = "invalid_input"
    status = 400
    default_message = _("Invalid input.")


class LedgerImmutable(LedgerError):
    code = "ledger_immutable"
    status = 409
    default_message = _("Ledger entries cannot be changed or deleted.")


SQLSTATE_ERRORS: dict[str, type[LedgerError]] = {
    "PM001": InvalidAmount,
    "PM002": IdempotencyConflict,
    "PM003": AccountNotFound,
    "PM004": AssetMismatch,
    "PM005": InsufficientPoints,
    "PM006": SameAccount,
    "PM007": BatchNeedsSystemDebit,
    "PM090": LedgerImmutable,
}
