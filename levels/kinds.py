"""The ledger kinds of member levels (registered with points.kinds; imported by PointsConfig.ready())."""

from django.utils.translation import gettext_lazy as _

from points.kinds import register

LEVEL_REWARD = register("level_reward", _("member level reward"), owner="levels")
