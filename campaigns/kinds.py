"""The ledger kinds campaigns posts (registered with points.kinds; imported by PointsConfig.ready())."""

from django.utils.translation import gettext_lazy as _

from points.kinds import register

BOOST = register("boost", _("multiplier card bonus"), owner="campaigns")
