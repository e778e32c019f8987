"""The ledger kinds of the partner programme (CNY, in fen; registered with points.kinds)."""

from django.utils.translation import gettext_lazy as _

from points.kinds import register

REBATE = register("partner_rebate", _("sales rebate"), owner="partners")
CLAWBACK = register("partner_clawback", _("rebate taken back for a return"), owner="partners")
BONUS = register("partner_bonus", _("annual bonus"), owner="partners")
REFERRAL = register("partner_referral", _("partner recruiting reward"), owner="partners")
REFERRAL_BACK = register("partner_referral_back", _("recruiting reward taken back for a return"), owner="partners")
PAYOUT = register("partner_payout", _("rebate paid out"), owner="partners")
