"""Invite errors, each with a stable machine code."""

from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, NotFound


class InviteNotFound(NotFound):
    code = "invite_not_found"
    default_message = _("No such invite.")


class InviteStateInvalid(Conflict):
    code = "invite_state_invalid"
    default_message = _("This invite cannot take that decision in its current state.")


class InviteHoldOver(Conflict):
    code = "invite_hold_over"
    default_message = _("The rewards of this invite are no longer on hold; they stay with the members.")


class CampaignLeaderboardNotFound(NotFound):
    code = "campaign_not_found"
    default_message = _("No such campaign.")
