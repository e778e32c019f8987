"""Prize wheel errors, each with a stable machine code."""

from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, DomainError, IdempotencyKeyInvalid, NotFound


class WheelNotFound(NotFound):
    code = "wheel_not_found"
    default_message = _("This campaign has no prize wheel.")


class SpinLimitReached(DomainError):
    code = "spin_limit_reached"
    status = 422
    default_message = _("You have used all your spins for now.")


class InvalidSpinKey(IdempotencyKeyInvalid):
    default_message = _("The request key must be 1-120 printable characters.")


class PrizeNotFound(NotFound):
    code = "prize_not_found"
    default_message = _("No such prize.")


class AddressClosed(DomainError):
    code = "prize_address_closed"
    status = 422
    default_message = _("The shipping address of this prize can no longer be changed.")


class OddsChangeRefused(DomainError):
    code = "odds_change_refused"
    status = 422
    default_message = _("The wheel is live: its odds and prizes may only change in members' favour.")


class PrizeKeepsBlankSlot(Conflict):
    code = "prize_blank_slot_required"
    default_message = _("A wheel always keeps its “thanks for playing” slot.")


class PrizeAlreadyWon(Conflict):
    code = "prize_already_won"
    default_message = _("This prize has been won; it cannot be removed.")


class DrawNotFound(NotFound):
    code = "draw_not_found"
    default_message = _("No such draw on this wheel.")
