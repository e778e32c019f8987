"""Member level errors, each with a stable machine code."""

from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, InvalidInput, NotFound


class NoActiveLadder(NotFound):
    code = "no_active_ladder"
    default_message = _("Member levels are not running at the moment.")


class LevelNotOnLadder(InvalidInput):
    code = "level_not_on_ladder"
    default_message = _("That level is not on the active ladder.")


class ThresholdsOverlap(Conflict):
    code = "thresholds_overlap"
    default_message = _("The levels' thresholds overlap: each level must need more than the one below it.")
