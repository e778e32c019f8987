"""The ledger kinds of the points mall (registered with points.kinds; imported by PointsConfig.ready())."""

from django.utils.translation import gettext_lazy as _

from points.kinds import register

REDEEM = register("redeem", _("mall redemption"), owner="mall")
REFUND = register("refund", _("refund"), owner="mall")
POINTS_CARD = register("points_card", _("points card"), owner="mall")
