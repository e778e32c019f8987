"""The ledger kinds the prize wheel posts (registered with points.kinds; imported by PointsConfig.ready()).
lottery_spin() (SQL) writes the same slugs."""

from django.utils.translation import gettext_lazy as _

from points.kinds import register

SPIN = register("spin", _("prize wheel spin"), owner="lottery")
PRIZE = register("prize", _("prize won"), owner="lottery")
